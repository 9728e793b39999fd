// The JS hook's boundary. An I/O thread writes what JS must learn in one loop turn (request
// heads, body chunks, ends, aborts, send acks) into a HookOutbox as flat numbers plus one
// byte string; the whole batch crosses to JS in one call. JS answers with HookCommands,
// also in one call per thread. Nothing crosses per request, header or chunk.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kserver {

struct Request;
struct PeerAddress;

// Record kinds in DynamicBatch::meta; ts/handler.ts reads the same layout.
//   kRequest: [1, conn, rid, flags, port, start, n, end_0 .. end_{n-1}]: n byte ranges of
//             `data` back to back from `start`: method, target, remote address, header
//             names and values alternating, and last the body bytes already read.
//   kBody:    [2, conn, rid, start, end]      a piece of the request body
//   kEnd:     [3, conn, rid]                  the request body is complete
//   kAbort:   [4, conn, rid]                  the client is gone or its body broke framing
//   kAck:     [5, conn, rid, bytes]           response bytes JS may count as sent
enum HookEvent : int { kHookRequest = 1, kHookBody = 2, kHookEnd = 3, kHookAbort = 4, kHookAck = 5 };
// Request flags.
constexpr int kHookHttp10 = 1;
constexpr int kHookIpv6 = 2;
constexpr int kHookBodyFollows = 4;  // more body arrives in kBody records, then kEnd

// At most one batch per I/O thread is with JS at a time: while JS works on one, the next
// grows, so the two threads (often on one core) trade fewer, larger batches.
struct HookFlow {
  std::atomic<bool> in_flight{false};
  std::atomic<bool> deferred{false};  // the I/O thread held a batch back meanwhile
  std::function<void()> wake;         // wakes that I/O thread; set before it starts
  // On the JS thread, once JS is done with a batch.
  void Done() {
    in_flight.store(false);
    if (deferred.exchange(false) && wake) wake();
  }
};

struct DynamicBatch {
  int thread = 0;
  std::shared_ptr<HookFlow> flow;
  std::vector<double> meta;
  std::string data;
  // (conn, rid) of every request in the batch: answered 503 when JS cannot take it.
  std::vector<std::pair<uint64_t, uint64_t>> requests;
};

class HookOutbox {
 public:
  uint64_t NextRid() { return next_rid_++; }
  void Request(uint64_t conn, uint64_t rid, const Request& req, const PeerAddress& peer, std::string_view body,
               bool body_follows);
  void Body(uint64_t conn, uint64_t rid, std::string_view bytes);
  void Mark(HookEvent kind, uint64_t conn, uint64_t rid);
  void Ack(uint64_t conn, uint64_t rid, uint64_t bytes);
  bool empty() const { return batch_.meta.empty(); }
  // The batch so far, leaving the outbox empty.
  std::unique_ptr<DynamicBatch> Take(int thread);

 private:
  DynamicBatch batch_;
  uint64_t next_rid_ = 1;
};

// Commands from JS, stride kHookStride in the Float64Array respond() receives:
//   [type, conn, rid, a, b, c]; items are strings or Buffers in a second array.
//   kAnswer: a status, b head item, c body item or -1   a whole response
//   kHead:   a status, b head item, c Content-Length or -1 (chunked / close-delimited)
//   kData:   b item                                     a piece of a streamed response
//   kFinish:                                            the streamed response is complete
//   kFail:                                              JS broke off; the response is cut
//   kRead:   a bytes                                    JS consumed request body bytes
// A head item is the handler's header lines ("Name: value\r\n" each), checked natively.
enum HookCommandType : int { kCmdAnswer = 1, kCmdHead = 2, kCmdData = 3, kCmdFinish = 4, kCmdFail = 5, kCmdRead = 6 };
constexpr int kHookStride = 6;

struct HookCommand {
  int type = 0;
  uint64_t conn = 0;
  uint64_t rid = 0;
  int status = 0;
  int64_t length = -1;  // kHead: declared Content-Length; kRead: bytes
  // Views into `bytes`, which holds the bytes of every command of one respond() call (one
  // allocation per call, not per string), or into static text.
  std::string_view head;
  std::string_view body;
  std::shared_ptr<const std::string> bytes;
};

// Delivers a batch to JS from an I/O thread, taking it (leaving null) on success; false,
// with the batch left in place, when JS can no longer take it.
using Dispatcher = std::function<bool(std::unique_ptr<DynamicBatch>& batch)>;

}  // namespace kserver
