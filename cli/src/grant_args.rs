//! The permission flags `run` and `check` share, turned into the host's [`Grants`].

use clap::Args;
use pyproc_host::Grants;

/// What of this machine the script may reach (nothing but its data, its own folder and a
/// private /tmp unless granted here).
#[derive(Args, Debug, Clone, Default)]
pub struct GrantArgs {
    /// Let the script read PATH (a folder or a file) at the same path, or HOST_PATH at
    /// GUEST_PATH with HOST_PATH::GUEST_PATH. Repeatable.
    #[arg(long = "allow-read", value_name = "PATH[::GUEST_PATH]")]
    pub read: Vec<String>,
    /// Let the script write (and read) PATH, as --allow-read. Repeatable.
    #[arg(long = "allow-write", value_name = "PATH[::GUEST_PATH]")]
    pub write: Vec<String>,
    /// Let the script connect (TCP) and send datagrams (UDP) to HOST:PORT; with
    /// HOST:PORT::LOCALHOST:PORT they go to that local address instead. Repeatable.
    #[arg(long = "allow-net", value_name = "HOST:PORT[::HOST:PORT]")]
    pub net: Vec<String>,
    /// Let the script accept TCP connections and UDP datagrams on 127.0.0.1:PORT.
    /// Repeatable.
    #[arg(long = "allow-listen", value_name = "PORT")]
    pub listen: Vec<u16>,
    /// Do not show the script's own folder to it (for a folder you do not trust).
    #[arg(long)]
    pub no_script_folder: bool,
}

impl GrantArgs {
    pub fn grants(&self) -> pyproc_host::Result<Grants> {
        Grants::from_flags(!self.no_script_folder, &self.read, &self.write, &self.net, &self.listen)
    }
}
