// `umupaka-admin audit`: verifies a node's whole ledger from its HTTP API alone (docs/ledger.md,
// "Audit").
#pragma once

#include <optional>
#include <string>

#include "ledger/ids.hpp"

namespace umupaka {

// Exit codes, for scripts: a fault in the ledger and an audit that could not be made are told
// apart (2 is a command-line error, as for every command).
inline constexpr int audit_verified = 0;    // every check passed
inline constexpr int audit_fault = 1;       // the ledger has a fault: the first is printed
inline constexpr int audit_incomplete = 3;  // not audited: node unreachable, token refused, ...

struct AuditOptions {
  std::string node;  // API URL
  std::string token;
  // The network root key the auditor trusts (HQ's, from `keygen`); without it the node's own
  // answer is taken, and the audit says so.
  std::optional<PublicKey> root_key;
};

// Prints what it verified, or `FAULT at ...: <what>` for the first fault; returns an exit code.
int audit(const AuditOptions& options);

}  // namespace umupaka
