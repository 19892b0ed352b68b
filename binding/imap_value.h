// An IMAP value (a BODYSTRUCTURE, say) as plain JS data, for lib/ to shape.
#pragma once

#include <napi.h>

#include "core/value.h"

namespace binding {

// Strings and atoms become strings, numbers numbers, NIL null, lists arrays.
Napi::Value valueToJs(Napi::Env env, const imap::Value& v);

}  // namespace binding
