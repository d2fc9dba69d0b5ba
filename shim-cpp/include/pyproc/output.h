// Where a processor's printed lines go: the script's stdout and stderr, and pyproc's own
// notes about it (restarts). Included by the bridge; use it through pyproc/processor.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>

#include "rust/cxx.h"

namespace pyproc {

enum class OutputKind : std::uint8_t { Stdout = 1, Stderr = 2, Note = 3 };

// Called on a thread of pyproc's own, never the one calling process(), one line at a time
// (without its newline), in order. `instance` is the processor's label. An exception it
// throws is swallowed.
using OutputCallback = std::function<void(OutputKind kind, std::string_view instance, std::string_view line)>;

namespace ffi {

// The callback as the bridge sees it.
class OutputTarget {
public:
    explicit OutputTarget(OutputCallback callback) : callback_(std::move(callback)) {}

    void line(std::uint8_t kind, rust::Str instance, rust::Str text) const noexcept {
        try {
            callback_(static_cast<OutputKind>(kind), std::string_view(instance.data(), instance.size()),
                      std::string_view(text.data(), text.size()));
        } catch (...) {
        }
    }

private:
    OutputCallback callback_;
};

}  // namespace ffi
}  // namespace pyproc
