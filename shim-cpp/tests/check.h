// The C++ tests' one assertion: CHECK(cond) reports a false condition with its file and
// line and counts it in `failures`, so a run reports every failed check, not only the first.
#pragma once

#include <atomic>
#include <iostream>

inline std::atomic<int> failures{0};  // checks may run on several threads

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK failed: " #cond "\n"; \
            ++failures;                                                                  \
        }                                                                                \
    } while (0)
