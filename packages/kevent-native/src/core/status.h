// Errors inside the core are errno values plus the operation that failed; the addon turns
// them into JS errors with `code`. The core never throws.
#pragma once

namespace kevent {

struct Status {
  int err = 0;
  const char* op = "";
  const char* detail = nullptr;  // optional human sentence, for EINVAL-style misuse
  bool ok() const { return err == 0; }
  static Status Ok() { return {}; }
  static Status Errno(int e, const char* op, const char* detail = nullptr) { return {e, op, detail}; }
};

}  // namespace kevent
