// parseMessage: the MIME parser of src/mime.h, run on the libuv threadpool.
#pragma once

#include <napi.h>

#include "keys.h"

namespace imap {
struct ParsedMessage;
}

namespace binding {

// parseMessage(input: Uint8Array, maxBytes?: number) -> Promise<object>.
// Argument checking with friendly errors is lib/mime.js's job; this only
// refuses what it cannot read.
Napi::Value ParseMessage(const Napi::CallbackInfo& info);

// A parsed message as the JS object parseMessage() resolves with. Moves the
// attachment bytes out of `m`.
Napi::Object toJs(const Keys& k, imap::ParsedMessage& m);

}  // namespace binding
