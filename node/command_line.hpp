// The command-line parse every Umupaka binary shares: the exit codes docs/operations.md names.
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

namespace umupaka {

// A number that is finite and within [lo, hi]: CLI::Range lets NaN through (every comparison
// with it is false).
inline CLI::Validator finite_range(double lo, double hi) {
  const std::string range = CLI::detail::to_string(lo) + " to " + CLI::detail::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !std::isfinite(v) || v < lo || v > hi)
          return "must be a number from " + range + ", got " + text;
        return {};
      },
      "NUMBER in [" + range + "]");
}

// For unsigned options: CLI11 reads "-1" into one as its largest value.
inline const CLI::Validator not_negative(
    [](std::string& text) -> std::string {
      return text.find('-') == std::string::npos ? std::string() : "must not be negative";
    },
    "");

// Parses the command line into `app`. nullopt: go on. Otherwise the process's exit code, CLI11's
// message printed: 0 after --help, 2 for bad arguments (whatever CLI11's own code for the error).
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
}

}  // namespace umupaka
