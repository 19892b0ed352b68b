// parseMessage: the MIME parser of src/mime.h, run on the libuv threadpool.
#pragma once

#include <napi.h>

namespace binding {

// parseMessage(input: Uint8Array, maxBytes?: number) -> Promise<object>.
// Argument checking with friendly errors is lib/mime.js's job; this only
// refuses what it cannot read.
Napi::Value ParseMessage(const Napi::CallbackInfo& info);

}  // namespace binding
