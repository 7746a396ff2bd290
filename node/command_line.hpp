// The command-line parse every Umupaka binary shares: the exit codes docs/operations.md names.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

namespace umupaka {

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
