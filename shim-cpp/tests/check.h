// The C++ tests' one assertion: CHECK(cond) reports a false condition with its file and
// line and counts it in `failures`, so a run reports every failed check, not only the first.
#pragma once

#include <atomic>
#include <exception>
#include <iostream>
#include <string>

inline std::atomic<int> failures{0};  // checks may run on several threads

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK failed: " #cond "\n"; \
            ++failures;                                                                  \
        }                                                                                \
    } while (0)

// A test executable's exit status after `checks` ran: an exception they let out counts as a
// failure; failures are summed up on stderr, and `passed` is said on stdout when there are
// none.
template <class Checks>
int run_checks(Checks checks, const std::string& passed) {
    try {
        checks();
    } catch (const std::exception& e) {
        std::cerr << "unexpected exception: " << e.what() << "\n";
        ++failures;
    }
    if (failures) {
        std::cerr << failures.load() << " check(s) failed\n";
        return 1;
    }
    std::cout << passed << "\n";
    return 0;
}
