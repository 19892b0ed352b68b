// Decoding of the FETCH ENVELOPE item (RFC 3501 7.4.2).
#pragma once

#include "core/value.h"
#include "model/message.h"

namespace imap {

// Decodes an ENVELOPE list. Returns false when `v` is not a list of at least
// 10 items; tolerates NIL anywhere. Group syntax (RFC 3501: host NIL marks a
// group start/end) is flattened: the member addresses are kept, group markers
// are dropped.
bool decodeEnvelope(const Value& v, Envelope& out);

}  // namespace imap
