// The canonical msgpack encoding of records (msgpack-c underneath).
//
// A record encodes as the array
//   [version, network_id, origin, seq, prev_hash(bin 32), hlc, type, body]
// where body is the array of the body type's fields in visit() order; nested structs are arrays,
// optionals are nil or the value, enums their index, dates days since 1970 as an integer, text
// UTF-8 str. Integers use msgpack's shortest form. There is exactly one encoding of each record:
// decode_record rejects anything encode_record would not produce (longer integer forms, maps,
// floats, unknown versions or types, trailing bytes), so signatures and hashes are over one form.
#pragma once

#include <string>
#include <string_view>

#include "ledger/records.hpp"
#include "ledger/result.hpp"

namespace umupaka {

std::string encode_record(const Record& record);

// Errc::decode (naming the field where it applies) or Errc::limit_exceeded on oversized input.
Result<Record> decode_record(std::string_view bytes);

}  // namespace umupaka
