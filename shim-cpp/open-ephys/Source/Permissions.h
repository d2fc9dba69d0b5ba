// The plugin's `permissions` parameter: what the script may reach besides its data, in the
// words of `pyproc run`'s flags, e.g.
//   --allow-read /mnt/lab --allow-write /data/out::/results --allow-net 10.0.0.5:5555
//   --allow-listen 9000 --no-script-folder
// Empty: the script's own folder, readable, and nothing else.
#pragma once

#include <JuceHeader.h>

#include <pyproc/processor.h>

/** Puts the grants `text` names into `options` (its other fields untouched). False, with
    `error` naming the flag and the value at fault, when `text` cannot be given as written;
    `options` is then unchanged. Values may be quoted ("..." or '...') to hold spaces. */
bool parsePermissions (const String& text, pyproc::Options& options, String& error);
