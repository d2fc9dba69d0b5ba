// The real-time path of the C++ API allocates nothing and waits for no lock once warm:
// 10 000 busy blocks (30 TTL events and 10 spikes in, 30 events and 10 spikes out, a
// Python exception every 100th block) through handle_ttl_event, handle_spike and process,
// after a few hundred blocks of warm-up, with a UI thread reading last_error() and
// status_text() meanwhile; and again with the script's PyVisualizer drawing what the
// blocks publish (handed over a thousand times a second) while the UI thread copies the
// frames out. Every heap allocation is counted (operator new and delete,
// malloc and its family are replaced in this executable) on the calling thread only, and
// each distinct call site is printed with its count, symbolized, when there are any. And a
// block that hangs past its deadline: only it passes through (the spare takes the next),
// and the stopped interpreter is not freed on the calling thread.
#include <pyproc/processor.h>

#include "check.h"

#include <dlfcn.h>
#include <execinfo.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <new>
#include <string>
#include <thread>
#include <vector>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {

// --- counting ------------------------------------------------------------------------

// Plain thread-locals of the executable: static TLS, so reading them never allocates.
thread_local bool armed = false;
thread_local bool in_hook = false;
thread_local std::uint64_t allocations = 0;
thread_local std::uint64_t frees = 0;

constexpr int kFrames = 24;
constexpr int kSkip = 2;  // count_allocation and the replaced function
constexpr int kMaxSites = 64;
struct Site {
    void* frames[kFrames];
    int depth;
    std::uint64_t count;
};
// Only the armed thread writes here.
Site sites[kMaxSites];
int num_sites = 0;
std::uint64_t unsited = 0;

void note_site() {
    void* frames[kFrames];
    const int depth = backtrace(frames, kFrames);
    for (int i = 0; i < num_sites; ++i) {
        if (sites[i].depth == depth && std::memcmp(sites[i].frames, frames, sizeof(void*) * depth) == 0) {
            ++sites[i].count;
            return;
        }
    }
    if (num_sites == kMaxSites) {
        ++unsited;
        return;
    }
    Site& site = sites[num_sites++];
    std::memcpy(site.frames, frames, sizeof(frames));
    site.depth = depth;
    site.count = 1;
}

void count_allocation() {
    if (!armed || in_hook) return;
    in_hook = true;
    ++allocations;
    note_site();
    in_hook = false;
}

void count_free(void* p) {
    if (p && armed && !in_hook) ++frees;
}

void* allocate_or_throw(std::size_t size) {
    count_allocation();
    void* p = __libc_malloc(size ? size : 1);
    if (!p) throw std::bad_alloc();
    return p;
}

void* allocate_aligned_or_throw(std::size_t size, std::align_val_t align) {
    count_allocation();
    void* p = __libc_memalign(static_cast<std::size_t>(align), size ? size : 1);
    if (!p) throw std::bad_alloc();
    return p;
}

}  // namespace

// glibc lets an executable replace malloc and its family; the Rust library's allocations
// (its system allocator calls these) and the C++ runtime's come here.
extern "C" {
void* malloc(std::size_t size) {
    count_allocation();
    return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
    count_allocation();
    return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
    count_allocation();
    return __libc_realloc(p, size);
}
void free(void* p) {
    count_free(p);
    __libc_free(p);
}
void* memalign(std::size_t align, std::size_t size) {
    count_allocation();
    return __libc_memalign(align, size);
}
void* aligned_alloc(std::size_t align, std::size_t size) {
    count_allocation();
    return __libc_memalign(align, size);
}
int posix_memalign(void** out, std::size_t align, std::size_t size) {
    count_allocation();
    void* p = __libc_memalign(align, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
}

void* operator new(std::size_t size) { return allocate_or_throw(size); }
void* operator new[](std::size_t size) { return allocate_or_throw(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    count_allocation();
    return __libc_malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    count_allocation();
    return __libc_malloc(size ? size : 1);
}
void* operator new(std::size_t size, std::align_val_t align) { return allocate_aligned_or_throw(size, align); }
void* operator new[](std::size_t size, std::align_val_t align) { return allocate_aligned_or_throw(size, align); }
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
    count_allocation();
    return __libc_memalign(static_cast<std::size_t>(align), size ? size : 1);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
    count_allocation();
    return __libc_memalign(static_cast<std::size_t>(align), size ? size : 1);
}
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, std::size_t) noexcept { free(p); }
void operator delete[](void* p, std::size_t) noexcept { free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { free(p); }

namespace {

// Function and file:line of each frame at `address` (inlined ones included), from
// addr2line.
std::vector<std::pair<std::string, std::string>> symbolize(void* address) {
    std::vector<std::pair<std::string, std::string>> frames;
    Dl_info info{};
    if (!dladdr(address, &info) || !info.dli_fname) return frames;
    // A return address: the call is the byte before it.
    const auto offset = reinterpret_cast<std::uintptr_t>(address) - reinterpret_cast<std::uintptr_t>(info.dli_fbase) - 1;
    char command[1024];
    std::snprintf(command, sizeof command, "addr2line -f -C -i -e '%s' 0x%lx 2>/dev/null", info.dli_fname,
                  static_cast<unsigned long>(offset));
    if (FILE* pipe = popen(command, "r")) {
        char function[4096], place[4096];
        while (std::fgets(function, sizeof function, pipe) && std::fgets(place, sizeof place, pipe)) {
            function[std::strcspn(function, "\n")] = 0;
            place[std::strcspn(place, "\n")] = 0;
            frames.emplace_back(function, place);
        }
        pclose(pipe);
    }
    if (frames.empty()) {
        // No addr2line: the module and offset, for one to look up by hand.
        char where[64];
        std::snprintf(where, sizeof where, "+0x%lx", static_cast<unsigned long>(offset));
        frames.emplace_back("", std::string(info.dli_fname) + where);
    }
    return frames;
}

// Each distinct call site, most frequent first: the first frames outside the standard
// libraries, innermost first.
void print_sites() {
    std::cerr << "allocation call sites (" << num_sites << " distinct";
    if (unsited) std::cerr << "; " << unsited << " more allocations at sites not kept";
    std::cerr << "):\n";
    std::vector<int> order;
    for (int i = 0; i < num_sites; ++i) order.push_back(i);
    std::sort(order.begin(), order.end(), [](int a, int b) { return sites[a].count > sites[b].count; });
    for (int i : order) {
        const Site& site = sites[i];
        std::cerr << "--- " << site.count << " allocations at:\n";
        int shown = 0;
        for (int f = kSkip; f < site.depth && shown < 6; ++f) {
            for (const auto& [function, place] : symbolize(site.frames[f])) {
                if (place.find("/rustc/") == 0 || place.find("/usr/include/") == 0 || place.rfind("??", 0) == 0) continue;
                if (shown++ < 6) std::cerr << "    " << place << "  " << function.substr(0, 160) << "\n";
            }
        }
    }
}

const std::string source_dir = PYPROC_SOURCE_DIR;
// The Rust test's script; with plots, its PyVisualizer draws too.
const std::string script = source_dir + "/host/tests/scripts/realtime_load.py";

constexpr int kChannels = 16;
constexpr int kSamples = 256;
constexpr int kWarmUp = 300;
constexpr int kCounted = 10000;
constexpr int kEventsIn = 30;
constexpr int kSpikesIn = 10;

void busy_blocks_allocate_nothing_and_wait_for_no_lock(const pyproc::Engine& engine, int shards, bool plots) {
    std::cerr << "== " << shards << " shard(s)" << (plots ? ", plots drawing" : "") << "\n";
    pyproc::Options options;
    options.shards = static_cast<std::uint32_t>(shards);
    options.assume_channel_independent = shards > 1;
    pyproc::Processor p(engine, script, kChannels, 30000.0, options);
    p.set_plots_per_second(1000);
    CHECK(p.num_shards() == shards);
    CHECK(p.start_acquisition() == pyproc::Status::Ok);

    std::vector<std::vector<float>> data(kChannels, std::vector<float>(kSamples, 1.0f));
    std::vector<float*> channels;
    for (auto& channel : data) channels.push_back(channel.data());
    const std::vector<float> waveform(4 * 40, 0.0f);
    const std::string ttl_channel = "TTL";
    const std::string electrode = "Tetrode 1";

    // The UI: reads what the blocks publish while they run, as the plugin's editor does.
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> reads{0};
    std::atomic<bool> sequence_went_back{false};
    std::atomic<std::uint64_t> frames{0};
    std::thread ui([&] {
        std::uint64_t last = 0;
        pyproc::PlotFrame frame{};
        while (!stop.load()) {
            if (plots && p.latest_frame(frame)) frames = frame.number;
            const pyproc::ErrorReport error = p.last_error();
            if (error.sequence < last) sequence_went_back = true;
            last = error.sequence;
            (void)p.status_text();
            (void)p.pass_through_counts();
            ++reads;
            std::this_thread::yield();
        }
    });

    std::uint64_t done = 0, failed = 0, other = 0, events_out = 0, spikes_out = 0, waits_before = 0;
    std::uint64_t frames_before = 0;
    bool events_in_order = true;
    // With plots, the warm-up lasts until the viewer has drawn a few frames: each of the
    // two buffers the values go round in has then held them.
    int warm_up = kWarmUp;
    for (int i = 0; i < warm_up + kCounted; ++i) {
        if (i == warm_up && plots && frames.load() < 3) ++warm_up;
        if (i == warm_up) {
            frames_before = frames.load();
            allocations = frees = 0;
            num_sites = 0;
            unsited = 0;
            waits_before = pyproc::detail::lock_waits_on_this_thread();
            armed = true;
        }
        const std::int64_t first = static_cast<std::int64_t>(i) * kSamples;
        for (int e = 0; e < kEventsIn; ++e)
            CHECK(p.handle_ttl_event(100, ttl_channel, first + e, e % 8, e % 2 == 0) == pyproc::Status::Ok);
        for (int s = 0; s < kSpikesIn; ++s)
            CHECK(p.handle_spike(101, electrode, first + s, 0, waveform.data(), 4, 40) == pyproc::Status::Ok);
        switch (p.process(channels.data(), kChannels, kSamples, first)) {
            case pyproc::Status::Ok: {
                ++done;
                std::int64_t previous = first;
                for (const pyproc::TtlEvent& event : p.events()) {
                    events_in_order &= event.sample_number >= previous;
                    previous = event.sample_number;
                    ++events_out;
                }
                for (const pyproc::Spike& spike : p.spikes()) spikes_out += spike.channel < kChannels;
                break;
            }
            case pyproc::Status::ScriptError: ++failed; break;
            default: ++other;
        }
        for (auto& channel : data) std::fill(channel.begin(), channel.end(), 1.0f);
    }
    armed = false;
    const std::uint64_t waits = pyproc::detail::lock_waits_on_this_thread() - waits_before;
    const std::uint64_t frames_during = frames.load() - frames_before;
    stop = true;
    ui.join();

    const std::uint64_t blocks = warm_up + kCounted;
    std::cerr << "blocks " << blocks << ": " << done << " done, " << failed << " raised, " << other
              << " other; events out " << events_out << ", spikes out " << spikes_out << "; UI reads " << reads.load()
              << "\nafter warm-up, on the calling thread: " << allocations << " allocations, " << frees << " frees, "
              << waits << " lock waits";
    if (plots) std::cerr << "; warm-up " << warm_up << " blocks, frames drawn while counting " << frames_during
                         << " (" << pyproc::to_string(p.plot_status().state) << ")";
    std::cerr << "\n";
    CHECK(failed == blocks / 100);
    CHECK(done + failed == blocks);
    CHECK(other == 0);
    CHECK(events_out == done * kEventsIn * shards);
    CHECK(spikes_out == done * kSpikesIn * shards);
    CHECK(events_in_order);
    CHECK(p.events_dropped() == 0 && p.spikes_dropped() == 0);
    // What a failed block reports is intact, read off the real-time thread.
    const pyproc::ErrorReport error = p.last_error();
    CHECK(error.status == pyproc::Status::ScriptError);
    CHECK(error.sequence >= 1 && error.sequence <= failed * shards);
    CHECK(std::string(error.callback) == "process");
    CHECK(std::string(error.message).find("realtime_load.py") != std::string::npos);
    CHECK(std::string(error.traceback).find("is a hundredth block") != std::string::npos);
    CHECK(!sequence_went_back.load());
    CHECK(p.pass_through_counts().script_error == failed);
    CHECK(p.status_text() == "running");
    if (plots) {
        CHECK(p.plot_status().state == pyproc::PlotState::Drawing);
        // The hand-off ran while counting: the viewer drew values of counted blocks.
        CHECK(frames_during > 0);
    }
    CHECK(waits == 0);
    CHECK(allocations == 0);
    if (allocations) print_sites();
}

// A block that hangs past its deadline is the only one that passes through: the spare
// built beforehand takes the next block, and the stopped interpreter is freed on the
// Processor's own thread (freeing a store is a hundred frees and more).
void only_the_hung_block_passes_through(const pyproc::Engine& engine) {
    std::cerr << "== a hung block\n";
    pyproc::Options options;
    options.callback_deadline_ms = 50;
    pyproc::Processor p(engine, source_dir + "/shim-cpp/tests/scripts/hang_once.py", 2, 30000.0, options);
    for (int waited = 0; !p.spare_ready() && waited < 120000; ++waited)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(p.spare_ready());
    std::vector<std::vector<float>> data(2, std::vector<float>(256));
    std::vector<float*> channels{data[0].data(), data[1].data()};
    auto run = [&](std::int64_t first) {
        for (auto& channel : data) std::fill(channel.begin(), channel.end(), 1.0f);
        return p.process(channels.data(), 2, 256, first);
    };
    auto all = [&](float value) {
        for (const auto& channel : data)
            for (float x : channel)
                if (x != value) return false;
        return true;
    };
    for (int i = 0; i < 3; ++i) CHECK(run(i * 256) == pyproc::Status::Ok && all(2.0f));
    frees = 0;
    armed = true;
    const pyproc::Status hung = run(768);  // hang_once.py never ends this block
    armed = false;
    std::cerr << "the hung block: " << frees << " frees on the calling thread\n";
    CHECK(hung == pyproc::Status::DeadlineExceeded && all(1.0f));
    CHECK(frees < 20);
    CHECK(run(1024) == pyproc::Status::Ok && all(2.0f));
    const pyproc::PassThroughCounts counts = p.pass_through_counts();
    CHECK(counts.deadline_exceeded == 1 && counts.restarting == 0);
    CHECK(p.status_text() == "running");
}

}  // namespace

int main() {
    // backtrace() loads its unwinder on first use, which allocates: before anything counts.
    void* frames[4];
    (void)backtrace(frames, 4);
    return run_checks(
        [] {
            pyproc::Engine engine;
            busy_blocks_allocate_nothing_and_wait_for_no_lock(engine, 1, false);
            busy_blocks_allocate_nothing_and_wait_for_no_lock(engine, 2, false);
            busy_blocks_allocate_nothing_and_wait_for_no_lock(engine, 1, true);
            busy_blocks_allocate_nothing_and_wait_for_no_lock(engine, 2, true);
            only_the_hung_block_passes_through(engine);
        },
        "pyproc real-time path: no allocation and no lock wait in " + std::to_string(kCounted) + " busy blocks");
}
