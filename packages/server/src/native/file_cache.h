// The open-file/stat cache of one I/O thread (no locks: only its thread touches it), keyed
// by the path relative to the root, LRU-bounded in entries and in bytes held.
//
// Staleness: every entry older than file_cache_ttl_ms is checked with fstatat (inode, size,
// mtime, ctime) before it is used, and one whose bytes were read within a second or two of
// its last change (timestamps too coarse to tell a later write apart) is read again
// instead. So a change is served at most file_cache_ttl_ms after it happened, whatever
// inotify does. Inotify makes that the usual case much faster: the directory of each
// cached file is watched through the thread's kevent queue (KEVENT_INODE, CREATE | REMOVE |
// MODIFY); the watch exists before the file is opened, so any later change is reported, and
// an event drops the directory's entries (the event does not name the file) before the
// thread's next request. A failed watch (ENOSPC, EMFILE, no /proc) leaves the TTL alone.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "file_info.h"
#include "offload.h"
#include "queue.h"

namespace kserver {

struct Options;
class StaticFiles;

struct FileCacheStats {
  uint64_t entries = 0;
  uint64_t hits = 0;    // lookups answered from an entry (after a stat when past the TTL)
  uint64_t misses = 0;  // lookups that opened the file
  // Lookups of a small file whose bytes were not held and could not be read without waiting
  // (pages not in the page cache, or no RWF_NOWAIT to tell): the response went to the aio
  // pool instead of a read on the I/O thread.
  uint64_t cold_reads = 0;
};

class FileCache {
 public:
  // `offload`: where files RWF_NOWAIT cannot read are loaded; completions come to `queue`.
  FileCache(const Options& options, const StaticFiles& files, std::shared_ptr<kevent::Queue> queue, Offload* offload);
  ~FileCache();
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // As LoadFile, from the cache when it holds a fresh entry.
  int Lookup(const std::string& relative, FileRef* out);
  // A KEVENT_INODE event of this thread's queue.
  void OnEvent(const kevent::Ukevent& ev);
  // The KEVENT_AIO completion `cookie`, when it is one of this cache's loads.
  void OnLoaded(uint64_t cookie);
  // Out of fds: closes every cached fd that no response is using.
  void ShedFds();
  // CLOCK_MONOTONIC ms of the current loop turn.
  void set_now(int64_t now) { now_ = now; }

  // From any thread.
  FileCacheStats Stats() const { return {entries_.load(), hits_.load(), misses_.load(), cold_reads_.load()}; }

 private:
  struct Dir {
    uint64_t id = 0;  // the `user` of its KEVENT_INODE registration
    std::string path;
    std::string watch_path;  // non-empty while watched: the key of the registration
    int64_t retry_at = 0;    // a failed watch is tried again from then
    size_t entries = 0;
  };
  struct Entry {
    std::string key;
    FileRef file;
    Dir* dir;
    int64_t checked_at;  // the last time its stat was known to match the disk
    bool racy;           // its bytes may predate a write its timestamps cannot show
    Unheld unheld;       // kCold or kCannotTell: bytes to load (Warm, on each hit); else kNo
    bool loading;        // a worker is reading them (kCannotTell)
    size_t bytes;        // held in memory
  };
  // A worker's plain read of a file RWF_NOWAIT cannot vouch for (tmpfs, procfs...).
  struct LoadJob : Offload::Job {
    explicit LoadJob(FileRef file) : file(std::move(file)) {}
    void Run() override { bytes = ReadWhole(*file); }
    const FileRef file;
    std::shared_ptr<const std::string> bytes;
  };
  struct Load {
    std::shared_ptr<LoadJob> job;
    std::string key;
  };
  using Lru = std::list<Entry>;  // front: most recently used

  // The record of `path`, watched when possible; null when the directory cannot be opened
  // (then *err says why: the file lookup would fail the same way).
  Dir* WatchDir(const std::string& path, int* err);
  void Unwatch(Dir* dir);
  bool StillFresh(Entry& e);
  // An entry with bytes to load: loads them if the page cache holds them by now, or has a
  // worker read them; counts a cold read while they are not held.
  void Warm(Entry& e);
  void StartLoad(Entry& e);
  // `e` holds `file`, a copy of its FileInfo with the bytes.
  void Hold(Entry& e, FileRef file);
  bool Racy(const FileInfo& file) const;
  void Insert(const std::string& key, const FileRef& file, Dir* dir);
  void Drop(Lru::iterator it);
  void DropDir(Dir* dir);
  // Every directory strictly beneath `path` ("" is the root), entries and watches.
  void ForgetBeneath(const std::string& path);
  void ForgetDir(Dir* dir);
  void Trim();

  const Options& options_;
  const StaticFiles& files_;
  kevent::Queue& queue_;
  std::shared_ptr<kevent::Queue> queue_owner_;  // for the loads' completions
  Offload* offload_;
  std::unordered_map<uint64_t, Load> loads_;  // by cookie
  const size_t max_entries_;
  const size_t max_bytes_;
  const size_t keep_bytes_max_;
  int64_t now_ = 0;
  size_t bytes_ = 0;
  uint64_t next_dir_id_ = 1;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator> index_;  // views of Entry::key
  std::unordered_map<std::string, Dir> dirs_;
  std::unordered_map<uint64_t, Dir*> dirs_by_id_;
  // Written by the owning thread only, read by stats().
  std::atomic<uint64_t> entries_{0}, hits_{0}, misses_{0}, cold_reads_{0};
};

}  // namespace kserver
