// Process-wide signal delivery to queues. signalfd would need the signal blocked in every
// thread of the process (V8 and libuv threads included), which an addon cannot arrange after
// start-up; so, like libuv, one async-signal-safe handler writes to an eventfd per subscriber.
#pragma once
#include "status.h"

namespace kevent::signal_hub {

// Delivers `signo` to `eventfd_fd` (a counter increment per signal) from now on. The first
// subscriber installs the handler; the previous disposition is chained to if it was a handler.
Status Subscribe(int signo, int eventfd_fd);
// Stops delivery; on return no handler invocation can still write to `eventfd_fd`.
void Unsubscribe(int signo, int eventfd_fd);

}  // namespace kevent::signal_hub
