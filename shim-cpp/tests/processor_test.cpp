// The C++ API, driven the way an audio host drives it: separate channel buffers processed
// in place, events out with their sample numbers, events and spikes in, a script that
// raises, reloads, two processors side by side, and what a script may reach (grants) and
// was refused (denials).
#include <pyproc/processor.h>

#include "check.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

#define CHECK_STATUS(expr, expected)                                                          \
    do {                                                                                      \
        pyproc::Status got_ = (expr);                                                         \
        if (got_ != (expected)) {                                                             \
            std::cerr << __FILE__ << ":" << __LINE__ << ": " #expr " gave "                  \
                      << pyproc::to_string(got_) << ", expected " << pyproc::to_string(expected) \
                      << "\n";                                                                \
            ++failures;                                                                       \
        }                                                                                     \
    } while (0)

const std::string source_dir = PYPROC_SOURCE_DIR;
const std::string contract_script = source_dir + "/shim-cpp/tests/scripts/cpp_contract.py";
const std::string threshold_script = source_dir + "/examples/threshold_events.py";
const std::string printer_script = source_dir + "/shim-cpp/tests/scripts/printer.py";
const std::string group_size_script = source_dir + "/shim-cpp/tests/scripts/group_size.py";

// A block held the way audio hosts hold one: a buffer per channel.
struct Block {
    std::vector<std::vector<float>> data;
    std::vector<float*> pointers;
    Block(int channels, int samples) : data(channels, std::vector<float>(samples, 0.0f)) {
        for (auto& channel : data) pointers.push_back(channel.data());
    }
    float* const* channels() { return pointers.data(); }
};

void in_place_processing_matches_the_script(const pyproc::Engine& engine) {
    pyproc::Processor p(engine, contract_script, 3, 30000.0);
    CHECK_STATUS(p.start_acquisition(), pyproc::Status::Ok);
    Block block(3, 256);
    for (int c = 0; c < 3; ++c)
        for (int s = 0; s < 256; ++s) block.data[c][s] = 0.5f * s - c;
    CHECK_STATUS(p.process(block.channels(), 3, 256, 0), pyproc::Status::Ok);
    bool all_match = true;
    for (int c = 0; c < 3; ++c)
        for (int s = 0; s < 256; ++s) all_match &= block.data[c][s] == 2.0f * (0.5f * s - c) + c;
    CHECK(all_match);
    CHECK(p.events().empty());
    CHECK(p.spikes().empty());
    // Spikes from add_python_spike: one to cut from the data, one with the script's waveform.
    block.data[0][0] = -555.0f;
    CHECK_STATUS(p.process(block.channels(), 3, 256, 256), pyproc::Status::Ok);
    CHECK(p.spikes().size() == 2);
    if (p.spikes().size() == 2) {
        const pyproc::Spike& cut = p.spikes()[0];
        CHECK(cut.sample_number == 256 && cut.channel == 0 && cut.sorted_id == 0 && !cut.has_waveform);
        const pyproc::Spike& own = p.spikes()[1];
        CHECK(own.sample_number == 261 && own.channel == 2 && own.sorted_id == 3 && own.has_waveform);
        CHECK(own.waveform[0] == 0.0f && own.waveform[39] == 39.0f);
    }
    CHECK(p.spikes_dropped() == 0);
    CHECK_STATUS(p.stop_acquisition(), pyproc::Status::Ok);
}

void events_out_carry_their_sample_numbers(const pyproc::Engine& engine) {
    // examples/threshold_events.py: line 1 on when channel 0 rises above 100 µV, off below.
    pyproc::Processor p(engine, threshold_script, 2, 30000.0);
    CHECK_STATUS(p.start_acquisition(), pyproc::Status::Ok);
    Block first(2, 100), second(2, 100);
    for (int s = 30; s < 100; ++s) first.data[0][s] = 150.0f;  // rises at 1000 + 30
    for (int s = 0; s < 10; ++s) second.data[0][s] = 150.0f;   // falls at 1100 + 10
    CHECK_STATUS(p.process(first.channels(), 2, 100, 1000), pyproc::Status::Ok);
    CHECK(p.events().size() == 1);
    if (p.events().size() == 1) {
        CHECK(p.events()[0].sample_number == 1030);
        CHECK(p.events()[0].line == 1);
        CHECK(p.events()[0].state);
    }
    CHECK_STATUS(p.process(second.channels(), 2, 100, 1100), pyproc::Status::Ok);
    CHECK(p.events().size() == 1);
    if (p.events().size() == 1) {
        CHECK(p.events()[0].sample_number == 1110);
        CHECK(!p.events()[0].state);
    }
}

void events_and_spikes_in_reach_the_script(const pyproc::Engine& engine) {
    pyproc::Processor p(engine, contract_script, 1, 30000.0);
    CHECK_STATUS(p.handle_ttl_event(104, "TTL", 5000, 3, true), pyproc::Status::Ok);
    std::vector<float> waveform(4 * 40, 10.0f);
    waveform[2 * 40 + 8] = 80.0f;  // peak on the third channel
    CHECK_STATUS(p.handle_spike(105, "Tetrode 1", 5020, 7, waveform.data(), 4, 40), pyproc::Status::Ok);
    Block block(1, 64);
    CHECK_STATUS(p.process(block.channels(), 1, 64, 5000), pyproc::Status::Ok);
    CHECK(p.events().size() == 2);
    if (p.events().size() == 2) {
        CHECK(p.events()[0].line == 13 && p.events()[0].state && p.events()[0].sample_number == 5000);
        CHECK(p.events()[1].line == 200 && p.events()[1].state && p.events()[1].sample_number == 5020);
    }
}

void a_raising_script_leaves_the_block_and_reports_the_traceback(const pyproc::Engine& engine) {
    pyproc::Processor p(engine, contract_script, 2, 30000.0);
    Block block(2, 32);
    block.data[0][0] = -999.0f;
    block.data[1][5] = 7.0f;
    const auto before = block.data;
    CHECK_STATUS(p.process(block.channels(), 2, 32, 0), pyproc::Status::ScriptError);
    CHECK(block.data == before);
    pyproc::ErrorReport error = p.last_error();
    CHECK(error.sequence == 1);
    CHECK(std::string(error.callback) == "process");
    CHECK(std::string(error.traceback).find("ValueError: asked to fail") != std::string::npos);
    CHECK(std::string(error.message).find("cpp_contract.py:14") != std::string::npos);
    // The processor keeps working.
    block.data[0][0] = 1.0f;
    CHECK_STATUS(p.process(block.channels(), 2, 32, 32), pyproc::Status::Ok);
    CHECK(block.data[0][0] == 2.0f && block.data[1][5] == 15.0f);
    // A block of the wrong shape is refused, untouched.
    Block wrong(3, 32);
    CHECK_STATUS(p.process(wrong.channels(), 3, 32, 64), pyproc::Status::BadBlock);
    CHECK(wrong.data[2][0] == 0.0f);
    // Each block that passed through is counted by its reason.
    const pyproc::PassThroughCounts counts = p.pass_through_counts();
    CHECK(counts.script_error == 1 && counts.bad_block == 1);
    CHECK(counts.deadline_exceeded == 0 && counts.restarting == 0 && counts.disabled == 0);
}

void a_script_that_does_not_load_throws_with_its_traceback(const pyproc::Engine& engine, const std::string& dir) {
    const std::string script = dir + "/broken_init.py";
    std::ofstream(script) << "class PyProcessor:\n    def __init__(self, p, n, r):\n        raise RuntimeError('no hardware')\n"
                             "    def process(self, data):\n        pass\n";
    bool threw = false;
    try {
        pyproc::Processor p(engine, script, 1, 30000.0);
    } catch (const pyproc::Error& e) {
        threw = true;
        CHECK(std::string(e.what()).find("RuntimeError: no hardware") != std::string::npos);
        CHECK(std::string(e.what()).find("broken_init.py:3") != std::string::npos);
    }
    CHECK(threw);
}

void reload_swaps_in_the_new_script_and_keeps_the_old_on_failure(const pyproc::Engine& engine,
                                                                  const std::string& dir) {
    const std::string script = dir + "/gain.py";
    auto write_gain = [&](const std::string& gain) {
        std::ofstream(script) << "class PyProcessor:\n    def __init__(self, p, n, r):\n        pass\n"
                                 "    def process(self, data):\n        data *= "
                              << gain << "\n";
    };
    write_gain("3");
    pyproc::Processor p(engine, script, 1, 30000.0);
    CHECK_STATUS(p.start_acquisition(), pyproc::Status::Ok);
    Block block(1, 8);
    block.data[0][0] = 1.0f;
    CHECK_STATUS(p.process(block.channels(), 1, 8, 0), pyproc::Status::Ok);
    CHECK(block.data[0][0] == 3.0f);

    // Blocks keep flowing on their own thread while the control thread reloads.
    write_gain("5");
    std::atomic<bool> stop{false};
    std::thread audio([&] {
        Block b(1, 8);
        while (!stop) {
            b.data[0][0] = 1.0f;
            p.process(b.channels(), 1, 8, 0);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    pyproc::Status reloaded = p.reload();
    stop = true;
    audio.join();
    CHECK_STATUS(reloaded, pyproc::Status::Ok);
    block.data[0][0] = 1.0f;
    CHECK_STATUS(p.process(block.channels(), 1, 8, 8), pyproc::Status::Ok);
    CHECK(block.data[0][0] == 5.0f);

    std::ofstream(script) << "class PyProcessor(:\n";
    CHECK_STATUS(p.reload(), pyproc::Status::ScriptError);
    CHECK(std::string(p.last_error().traceback).find("SyntaxError") != std::string::npos);
    block.data[0][0] = 1.0f;
    CHECK_STATUS(p.process(block.channels(), 1, 8, 16), pyproc::Status::Ok);
    CHECK(block.data[0][0] == 5.0f);
}

bool file_holds(const std::string& path, const std::string& expected) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return in.good() && text.str() == expected;
}

void a_recording_folder_outside_the_root_is_granted_by_a_reload(const pyproc::Engine& engine,
                                                                 const std::string& dir) {
    const std::string script = dir + "/writer.py";
    std::ofstream(script) << "class PyProcessor:\n    def __init__(self, p, n, r):\n        self.n = 0\n"
                             "    def process(self, data):\n        self.n += 1\n"
                             "    def start_recording(self, d):\n"
                             "        open(d + '/note.txt', 'w').write(f'{self.n} blocks before')\n";
    for (const char* sub : {"/first", "/first/s1", "/moved", "/moved/s2"})
        std::system(("mkdir -p " + dir + sub).c_str());
    pyproc::Options options;
    options.recording_root = dir + "/first";
    pyproc::Processor p(engine, script, 1, 30000.0, options);
    Block block(1, 8);
    CHECK_STATUS(p.start_acquisition(), pyproc::Status::Ok);
    CHECK_STATUS(p.process(block.channels(), 1, 8, 0), pyproc::Status::Ok);
    CHECK_STATUS(p.start_recording(dir + "/first/s1"), pyproc::Status::Ok);
    CHECK(file_holds(dir + "/first/s1/note.txt", "1 blocks before"));
    CHECK_STATUS(p.stop_recording(), pyproc::Status::Ok);
    // The host now records elsewhere: a fresh interpreter (its count starts again) writes there.
    CHECK_STATUS(p.start_recording(dir + "/moved/s2"), pyproc::Status::Ok);
    CHECK(file_holds(dir + "/moved/s2/note.txt", "0 blocks before"));
    CHECK_STATUS(p.process(block.channels(), 1, 8, 8), pyproc::Status::Ok);
    CHECK_STATUS(p.stop_recording(), pyproc::Status::Ok);
}

// The folder a grant names: beside the test binary rather than in /tmp, which the sandbox
// may show the script as its own.
// Not under /tmp: there the script has its own private /tmp, so an ungranted path is
// simply not found rather than refused.
std::string make_grant_dir() {
    char name[] = "/var/tmp/pyproc-grants-XXXXXX";
    char* made = mkdtemp(name);
    if (!made) return {};
    char* absolute = realpath(made, nullptr);
    std::string path = absolute ? absolute : "";
    std::free(absolute);
    return path;
}

// A script that reads <lab>/config.txt (a gain) in __init__ and writes the gain it used to
// <out>/used.txt in stop_acquisition; process() multiplies by the gain, or puts -1
// (PermissionError) or -2 (another error) in the first sample.
std::string write_grant_script(const std::string& dir, const std::string& lab, const std::string& out) {
    std::system(("mkdir -p " + dir + "/scripts").c_str());
    const std::string script = dir + "/scripts/lab_config.py";
    std::ofstream(script) << "class PyProcessor:\n"
                             "    def __init__(self, p, n, r):\n"
                             "        self.gain, self.code = None, 0.0\n"
                             "        try:\n"
                             "            self.gain = float(open('" << lab << "/config.txt').read())\n"
                             "        except PermissionError:\n"
                             "            self.code = -1.0\n"
                             "        except Exception:\n"
                             "            self.code = -2.0\n"
                             "    def process(self, data):\n"
                             "        if self.gain is None:\n"
                             "            data[0, 0] = self.code\n"
                             "        else:\n"
                             "            data *= self.gain\n"
                             "    def stop_acquisition(self):\n"
                             "        open('" << out << "/used.txt', 'w').write(str(self.gain))\n";
    return script;
}

void a_granted_folder_is_reachable_and_nothing_else(const pyproc::Engine& engine, const std::string& dir) {
    const std::string grants = make_grant_dir();
    CHECK(!grants.empty());
    const std::string lab = grants + "/lab", out = grants + "/out";
    std::system(("mkdir -p " + lab + " " + out).c_str());
    std::ofstream(lab + "/config.txt") << "4";
    const std::string script = write_grant_script(dir, lab, out);

    pyproc::Options granted;
    granted.allow_read = {lab};
    granted.allow_write = {out};
    pyproc::Processor p(engine, script, 1, 30000.0, granted);
    Block block(1, 4);
    block.data[0][0] = 1.5f;
    CHECK_STATUS(p.start_acquisition(), pyproc::Status::Ok);
    CHECK_STATUS(p.process(block.channels(), 1, 4, 0), pyproc::Status::Ok);
    CHECK(block.data[0][0] == 6.0f);
    CHECK_STATUS(p.stop_acquisition(), pyproc::Status::Ok);
    CHECK(file_holds(out + "/used.txt", "4.0"));
    CHECK(p.denials().count == 0);

    // Without the grants: PermissionError in the script, and each refusal listed with its fix.
    std::remove((out + "/used.txt").c_str());
    pyproc::Processor refused(engine, script, 1, 30000.0);
    block.data[0][0] = 1.5f;
    CHECK_STATUS(refused.start_acquisition(), pyproc::Status::Ok);
    CHECK_STATUS(refused.process(block.channels(), 1, 4, 0), pyproc::Status::Ok);
    CHECK(block.data[0][0] == -1.0f);
    CHECK_STATUS(refused.stop_acquisition(), pyproc::Status::ScriptError);
    CHECK(std::string(refused.last_error().traceback).find("PermissionError") != std::string::npos);
    CHECK(!std::ifstream(out + "/used.txt").good());
    // Each refusal once, with the callback and the flag that would allow it.
    pyproc::DenialReport denials = refused.denials();
    auto listed = [&denials](const std::string& a, const std::string& b, const std::string& c) {
        for (const rust::String& line : denials.kept) {
            const std::string text(line);
            if (text.find(a) != std::string::npos && text.find(b) != std::string::npos && text.find(c) != std::string::npos)
                return true;
        }
        return false;
    };
    CHECK(denials.count == 2 && denials.kept.size() == 2);
    CHECK(listed("__init__: read " + lab + "/config.txt", "--allow-read", ""));
    CHECK(listed("stop_acquisition: write " + out + "/used.txt", "--allow-write", out));
    // A reload starts a new interpreter: the refusals so far are kept, and its __init__'s added.
    CHECK_STATUS(refused.reload(), pyproc::Status::Ok);
    const pyproc::DenialReport reloaded = refused.denials();
    CHECK(reloaded.count == denials.count + 1 && reloaded.kept.size() == denials.kept.size());
    std::system(("rm -rf " + grants).c_str());
}

void a_bad_grant_is_refused_naming_its_flag(const pyproc::Engine& engine) {
    pyproc::Options options;
    options.allow_net = {"hub.lab"};
    bool threw = false;
    try {
        pyproc::Processor p(engine, contract_script, 1, 30000.0, options);
    } catch (const pyproc::Error& e) {
        threw = true;
        CHECK(std::string(e.what()).find("--allow-net hub.lab: ") == 0);
        CHECK(std::string(e.what()).find("HOST:PORT") != std::string::npos);
    }
    CHECK(threw);
    pyproc::Options relative;
    relative.allow_write = {"/data::results"};
    threw = false;
    try {
        pyproc::check_grants(relative);
    } catch (const pyproc::Error& e) {
        threw = true;
        CHECK(std::string(e.what()).find("--allow-write /data::results: ") == 0);
    }
    CHECK(threw);
    pyproc::check_grants(pyproc::Options{});  // the default grants are fine
}

void two_processors_are_independent(const pyproc::Engine& engine) {
    pyproc::Processor a(engine, threshold_script, 1, 30000.0, pyproc::Options{0, "a"});
    pyproc::Processor b(engine, threshold_script, 1, 30000.0, pyproc::Options{0, "b"});
    Block high(1, 10), low(1, 10);
    for (float& v : high.data[0]) v = 500.0f;
    // a sees a rising edge; b stays low; then a stays high (no event) while b rises.
    CHECK_STATUS(a.process(high.channels(), 1, 10, 0), pyproc::Status::Ok);
    CHECK_STATUS(b.process(low.channels(), 1, 10, 0), pyproc::Status::Ok);
    CHECK(a.events().size() == 1 && b.events().empty());
    for (float& v : high.data[0]) v = 500.0f;
    CHECK_STATUS(a.process(high.channels(), 1, 10, 10), pyproc::Status::Ok);
    for (float& v : high.data[0]) v = 500.0f;
    CHECK_STATUS(b.process(high.channels(), 1, 10, 10), pyproc::Status::Ok);
    CHECK(a.events().empty());
    CHECK(b.events().size() == 1 && b.events()[0].sample_number == 10);
    // On two threads at once.
    std::thread ta([&] {
        Block x(1, 10);
        for (int i = 0; i < 50; ++i) CHECK_STATUS(a.process(x.channels(), 1, 10, 20 + 10 * i), pyproc::Status::Ok);
    });
    std::thread tb([&] {
        Block x(1, 10);
        for (int i = 0; i < 50; ++i) CHECK_STATUS(b.process(x.channels(), 1, 10, 20 + 10 * i), pyproc::Status::Ok);
    });
    ta.join();
    tb.join();
}

void shards_split_the_channels_and_a_failing_group_keeps_only_its_own(const pyproc::Engine& engine) {
    pyproc::Options two;
    two.shards = 2;
    pyproc::Processor p(engine, group_size_script, 5, 30000.0, two);
    CHECK(p.num_shards() == 2);
    Block block(5, 16);
    CHECK_STATUS(p.process(block.channels(), 5, 16, 0), pyproc::Status::Ok);
    // Channels 0-2 in one interpreter, 3-4 in the other.
    CHECK(block.data[0][0] == 3.0f && block.data[2][15] == 3.0f && block.data[3][0] == 2.0f && block.data[4][15] == 2.0f);

    pyproc::Options three;
    three.shards = 3;
    pyproc::Processor q(engine, group_size_script, 5, 30000.0, three);
    Block other(5, 16);
    for (float& v : other.data[4]) v = -1.0f;
    CHECK_STATUS(q.process(other.channels(), 5, 16, 0), pyproc::Status::ScriptError);
    // Groups 0-1, 2-3 and 4: only channel 4's group raised, and only it is unchanged.
    CHECK(other.data[0][0] == 2.0f && other.data[3][15] == 2.0f && other.data[4][0] == -1.0f);
    pyproc::ErrorReport error = q.last_error();
    CHECK(std::string(error.message).find("shard 3 of 3 (channel 4, counting from 0)") != std::string::npos);
    CHECK(std::string(error.traceback).find("a group of one channel") != std::string::npos);

    pyproc::Processor one(engine, contract_script, 5, 30000.0, two);  // does not declare it
    CHECK(one.num_shards() == 1);
}

}  // namespace

// A prepared engine loads without compiling; an empty cache has none to load (and
// if_prepared does not start installing one there).
void if_prepared_loads_only_what_is_installed(const char* dir) {
    CHECK(pyproc::Engine::if_prepared() != nullptr);
    const std::string empty = std::string(dir) + "/empty-cache";
    CHECK(pyproc::Engine::if_prepared(empty) == nullptr);
    CHECK(std::system((std::string("test -z \"$(ls -A ") + empty + " 2>/dev/null)\"").c_str()) == 0);
}

// What the script prints reaches the output callback, in order, on a thread that is not
// the one calling process().
void printed_lines_reach_the_output_callback_off_the_calling_thread(const pyproc::Engine& engine) {
    struct Seen {
        std::mutex mutex;
        std::vector<std::pair<pyproc::OutputKind, std::string>> lines;
        bool on_caller = false;
    } seen;
    const std::thread::id caller = std::this_thread::get_id();
    {
        pyproc::Options options;
        options.label = "printer";
        pyproc::Processor p(engine, printer_script, 1, 30000.0, options,
                            [&](pyproc::OutputKind kind, std::string_view instance, std::string_view line) {
                                std::lock_guard<std::mutex> lock(seen.mutex);
                                seen.on_caller |= std::this_thread::get_id() == caller;
                                seen.lines.emplace_back(kind, std::string(instance) + ": " + std::string(line));
                            });
        Block block(1, 16);
        for (int i = 0; i < 3; ++i) CHECK_STATUS(p.process(block.channels(), 1, 16, i * 16), pyproc::Status::Ok);
        for (int wait = 0; wait < 500; ++wait) {
            {
                std::lock_guard<std::mutex> lock(seen.mutex);
                if (seen.lines.size() >= 5) break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }  // the processor is gone: no call may come after this
    std::lock_guard<std::mutex> lock(seen.mutex);
    CHECK(!seen.on_caller);
    CHECK(seen.lines.size() == 5);
    if (seen.lines.size() == 5) {
        CHECK(seen.lines[0].first == pyproc::OutputKind::Stdout && seen.lines[0].second == "printer: constructed for 1 channels");
        CHECK(seen.lines[1].second == "printer: block 1");
        CHECK(seen.lines[3].first == pyproc::OutputKind::Stderr && seen.lines[3].second == "printer: a warning");
        CHECK(seen.lines[4].second == "printer: block 3");
    }
}

int main() {
    char dir_template[] = "/tmp/pyproc-cpp-test-XXXXXX";
    const char* dir = mkdtemp(dir_template);
    if (!dir) {
        std::perror("mkdtemp");
        return 2;
    }
    const int status = run_checks(
        [&] {
            pyproc::Engine engine;
            if_prepared_loads_only_what_is_installed(dir);
            printed_lines_reach_the_output_callback_off_the_calling_thread(engine);
            in_place_processing_matches_the_script(engine);
            events_out_carry_their_sample_numbers(engine);
            events_and_spikes_in_reach_the_script(engine);
            a_raising_script_leaves_the_block_and_reports_the_traceback(engine);
            a_script_that_does_not_load_throws_with_its_traceback(engine, dir);
            reload_swaps_in_the_new_script_and_keeps_the_old_on_failure(engine, dir);
            two_processors_are_independent(engine);
            a_recording_folder_outside_the_root_is_granted_by_a_reload(engine, dir);
            a_granted_folder_is_reachable_and_nothing_else(engine, dir);
            a_bad_grant_is_refused_naming_its_flag(engine);
            shards_split_the_channels_and_a_failing_group_keeps_only_its_own(engine);
        },
        "pyproc C++ API: all checks passed");
    std::system((std::string("rm -rf ") + dir).c_str());
    return status;
}
