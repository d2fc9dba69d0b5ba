// Plots through the C++ API: a script's PyVisualizer draws frames the message thread can
// copy out, of the figure's size and changing as blocks publish new values; a script
// without one gets none and processes as ever; a viewer that raises reports its error in
// plot_status() while every block stays Ok and last_error() stays empty.
//
// The viewer runs on a thread of the Processor's own, so the test waits for it, with a
// generous limit (its first start imports matplotlib), while blocks flow.
#include <pyproc/processor.h>

#include "check.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

const std::string scripts = std::string(PYPROC_SOURCE_DIR) + "/shim-cpp/tests/scripts/";
constexpr int kChannels = 4;
constexpr int kSamples = 256;

// Feeds blocks to `p` until `done()` (checking each block is Ok), for two minutes at most.
bool blocks_until(pyproc::Processor& p, std::int64_t& first, const std::function<bool()>& done) {
    std::vector<std::vector<float>> data(kChannels, std::vector<float>(kSamples, 1.0f));
    std::vector<float*> channels;
    for (auto& channel : data) channels.push_back(channel.data());
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (std::chrono::steady_clock::now() < give_up) {
        CHECK(p.process(channels.data(), kChannels, kSamples, first) == pyproc::Status::Ok);
        first += kSamples;
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

void a_visualizer_draws_frames_that_change_with_the_blocks(const pyproc::Engine& engine) {
    pyproc::Processor p(engine, scripts + "plots.py", kChannels, 30000.0);
    p.set_plots_per_second(100);
    CHECK(p.start_acquisition() == pyproc::Status::Ok);
    pyproc::PlotFrame frame{};
    std::int64_t first = 0;
    CHECK(blocks_until(p, first, [&] { return p.latest_frame(frame); }));
    // plots.py's figure: 3 x 2 inches at 40 dots per inch.
    CHECK(frame.number >= 1);
    CHECK(frame.width == 120 && frame.height == 80);
    CHECK(frame.rgba.size() == std::size_t(frame.width) * frame.height * 4);
    CHECK(frame.sample_number >= 0 && frame.sample_number < first);
    CHECK(p.plot_status().state == pyproc::PlotState::Drawing);
    const std::vector<std::uint8_t> before(frame.rgba.begin(), frame.rgba.end());
    const std::uint64_t number = frame.number;
    bool changed = false;
    CHECK(blocks_until(p, first, [&] {
        if (p.latest_frame(frame)) changed = !std::equal(before.begin(), before.end(), frame.rgba.begin());
        return changed;
    }));
    CHECK(frame.number > number);
    CHECK(p.plot_status().frames >= frame.number);
    CHECK(p.last_error().sequence == 0);
}

void a_script_without_a_visualizer_has_no_plots_and_processes_as_ever(const pyproc::Engine& engine, const std::string& script) {
    pyproc::Processor p(engine, scripts + script, kChannels, 30000.0);
    CHECK(p.start_acquisition() == pyproc::Status::Ok);
    pyproc::PlotFrame frame{};
    std::int64_t first = 0;
    CHECK(blocks_until(p, first, [&] { return p.plot_status().state == pyproc::PlotState::NoVisualizer; }));
    CHECK(!p.latest_frame(frame));
    CHECK(frame.number == 0 && frame.rgba.size() == 0);
    CHECK(p.plot_status().error.sequence == 0);
    CHECK(p.last_error().sequence == 0);
    CHECK(p.pass_through_counts().script_error == 0);
}

void a_raising_visualizer_reports_its_error_and_blocks_stay_ok(const pyproc::Engine& engine) {
    pyproc::Processor p(engine, scripts + "plots_raising.py", kChannels, 30000.0);
    p.set_plots_per_second(100);
    CHECK(p.start_acquisition() == pyproc::Status::Ok);
    std::int64_t first = 0;
    CHECK(blocks_until(p, first, [&] { return p.plot_status().state == pyproc::PlotState::Failed; }));
    const pyproc::PlotStatus status = p.plot_status();
    CHECK(status.error.sequence >= 1);
    CHECK(std::string(status.error.callback) == "update");
    CHECK(std::string(status.error.message).find("plots_raising.py") != std::string::npos);
    CHECK(std::string(status.error.traceback).find("this viewer breaks on purpose") != std::string::npos);
    pyproc::PlotFrame frame{};
    CHECK(!p.latest_frame(frame));
    // It goes on failing, and blocks go on: all Ok (blocks_until checks each), no error.
    const std::uint64_t viewer_failures = status.error.sequence;
    CHECK(blocks_until(p, first, [&] { return p.plot_status().error.sequence > viewer_failures; }));
    CHECK(p.last_error().sequence == 0);
    CHECK(p.pass_through_counts().script_error == 0);
    CHECK(p.status_text() == "running");
}

}  // namespace

int main() {
    return run_checks(
        [] {
            pyproc::Engine engine;
            a_visualizer_draws_frames_that_change_with_the_blocks(engine);
            a_script_without_a_visualizer_has_no_plots_and_processes_as_ever(engine, "plots_none.py");
            a_script_without_a_visualizer_has_no_plots_and_processes_as_ever(engine, "cpp_contract.py");
            a_raising_visualizer_reports_its_error_and_blocks_stay_ok(engine);
        },
        "pyproc plots: frames drawn, none without a PyVisualizer, a failing viewer reported");
}
