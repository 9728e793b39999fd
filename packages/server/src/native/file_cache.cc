#include "file_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <iterator>
#include <vector>

#include "options.h"
#include "static_files.h"
#include "ukevent.h"

namespace kserver {
using kevent::Ukevent;

namespace {

// Bytes of small files one thread keeps in memory; a single file past 1/16 of it is read per
// request instead (only when small_file_max is raised that far).
constexpr size_t kMaxBytes = 16 << 20;
// Timestamps come from a coarse clock (and are 1-2 s on some filesystems): a write this
// close to the moment the bytes were read may leave size, mtime and ctime as they were.
constexpr int64_t kRacyNs = 2'000'000'000;
// A directory that cannot be watched (inotify limits, no /proc) is tried again this late.
constexpr int64_t kWatchRetryMs = 1000;
constexpr uint32_t kDirEvents = kevent::KEVENT_INODE_CREATE | kevent::KEVENT_INODE_REMOVE | kevent::KEVENT_INODE_MODIFY;

std::string DirOf(const std::string& relative) {
  const size_t slash = relative.rfind('/');
  return slash == std::string::npos ? std::string() : relative.substr(0, slash);
}

bool Beneath(const std::string& path, const std::string& dir) {
  if (dir.empty()) return !path.empty();
  return path.size() > dir.size() && path[dir.size()] == '/' && path.compare(0, dir.size(), dir) == 0;
}


// One writer: no read-modify-write needed.
void Bump(std::atomic<uint64_t>& counter) { counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

}  // namespace

FileCache::FileCache(const Options& options, const StaticFiles& files, std::shared_ptr<kevent::Queue> queue,
                     Offload* offload)
    : options_(options),
      files_(files),
      queue_(*queue),
      queue_owner_(std::move(queue)),
      offload_(offload),
      max_entries_(options.file_cache_entries),
      max_bytes_(kMaxBytes),
      keep_bytes_max_(std::min(options.small_file_max, kMaxBytes / 16)) {}

FileCache::~FileCache() {
  if (queue_.closed()) return;  // the registrations went with it
  for (auto& [path, dir] : dirs_) Unwatch(&dir);
}

int FileCache::Lookup(const std::string& relative, FileRef* out) {
  auto found = index_.find(relative);
  if (found != index_.end()) {
    const Lru::iterator it = found->second;
    if (StillFresh(*it)) {
      lru_.splice(lru_.begin(), lru_, it);
      Bump(hits_);
      if (it->unheld != Unheld::kNo) Warm(*it);
      *out = it->file;
      return it->file->err;
    }
    Drop(it);
  }
  Bump(misses_);
  // The watch comes first: whatever changes after it is reported.
  int dir_err = 0;
  Dir* dir = WatchDir(DirOf(relative), &dir_err);
  if (!dir && (dir_err == ENOENT || dir_err == ENOTDIR)) {
    auto missing = std::make_shared<FileInfo>();
    missing->err = dir_err;  // no directory, so no file in it either
    *out = std::move(missing);
    return dir_err;
  }
  int err = LoadFile(files_, relative, keep_bytes_max_, out);
  if (err == EMFILE || err == ENFILE) {
    ShedFds();
    err = LoadFile(files_, relative, keep_bytes_max_, out);
  }
  const Unheld unheld = (*out)->unheld;
  const bool warmable = unheld == Unheld::kCold || unheld == Unheld::kCannotTell;
  if (warmable) Bump(cold_reads_);
  if (!dir) return err;
  const FileInfo& f = **out;
  // A missing file is remembered only while its directory's CREATE events can undo it.
  const bool cacheable = err == 0 ? S_ISREG(f.st.st_mode) || S_ISDIR(f.st.st_mode)
                                  : (err == ENOENT || err == ENOTDIR) && !dir->watch_path.empty();
  if (cacheable) {
    Insert(relative, *out, dir);
    if (unheld == Unheld::kCannotTell) StartLoad(lru_.front());
  }
  return err;
}

bool FileCache::StillFresh(Entry& e) {
  if (now_ - e.checked_at < options_.file_cache_ttl_ms) return true;
  if (e.racy) return false;  // only reading the bytes again proves them
  struct stat st {};
  const int flags = options_.follow_symlinks ? 0 : AT_SYMLINK_NOFOLLOW;
  const int rc = fstatat(files_.root_fd(), e.key.empty() ? "." : e.key.c_str(), &st, flags);
  const FileInfo& f = *e.file;
  const bool same = f.err ? rc != 0 && errno == f.err : rc == 0 && SameFile(st, f.st);
  if (same) e.checked_at = now_;
  return same;
}

void FileCache::Warm(Entry& e) {
  if (e.unheld == Unheld::kCold) {
    // The pool's sendfile for an earlier response has likely read the pages in by now.
    Unheld why;
    if (FileRef held = LoadCachedBytes(*e.file, &why)) return Hold(e, std::move(held));
    e.unheld = why == Unheld::kFailed ? Unheld::kNo : why;  // failed: the pool sends it from now on
  }
  if (e.unheld == Unheld::kCannotTell && !e.loading) StartLoad(e);
  if (e.unheld != Unheld::kNo) Bump(cold_reads_);
}

void FileCache::StartLoad(Entry& e) {
  auto job = std::make_shared<LoadJob>(e.file);
  uint64_t cookie = 0;
  if (!offload_ || !offload_->Submit(job, queue_owner_, &cookie).ok()) return;
  loads_.emplace(cookie, Load{std::move(job), e.key});
  e.loading = true;
}

void FileCache::OnLoaded(uint64_t cookie) {
  auto it = loads_.find(cookie);
  if (it == loads_.end()) return;
  const Load load = std::move(it->second);
  loads_.erase(it);
  auto found = index_.find(load.key);
  // Dropped, or replaced after a change on disk: these bytes may be older than the entry.
  if (found == index_.end() || found->second->file != load.job->file) return;
  Entry& e = *found->second;
  e.loading = false;
  if (!load.job->bytes) {
    e.unheld = Unheld::kNo;  // the read failed: the pool sends it, and meets the same
    return;
  }
  Hold(e, WithBytes(*e.file, load.job->bytes));
}

void FileCache::Hold(Entry& e, FileRef file) {
  e.file = std::move(file);
  e.unheld = Unheld::kNo;
  e.racy = Racy(*e.file);
  e.bytes = e.file->bytes->size();
  bytes_ += e.bytes;
  // Evicts from the back: an entry just used is at the front, and holds at most 1/16 of the
  // budget, so it stays; one loaded by a worker may go, having not been used since.
  Trim();
}

bool FileCache::Racy(const FileInfo& file) const {
  if (!file.bytes) return false;
  timespec wall{};
  clock_gettime(CLOCK_REALTIME, &wall);
  return std::max(Ns(file.st.st_ctim), Ns(file.st.st_mtim)) + kRacyNs > Ns(wall);
}

void FileCache::Insert(const std::string& key, const FileRef& file, Dir* dir) {
  const size_t bytes = file->bytes ? file->bytes->size() : 0;
  const bool warmable = file->unheld == Unheld::kCold || file->unheld == Unheld::kCannotTell;
  lru_.push_front(Entry{key, file, dir, now_, Racy(*file), warmable ? file->unheld : Unheld::kNo, false, bytes});
  index_.emplace(lru_.front().key, lru_.begin());
  ++dir->entries;
  bytes_ += bytes;
  Trim();
  entries_.store(index_.size(), std::memory_order_relaxed);
}

void FileCache::Drop(Lru::iterator it) {
  --it->dir->entries;
  bytes_ -= it->bytes;
  index_.erase(std::string_view(it->key));
  lru_.erase(it);
  entries_.store(index_.size(), std::memory_order_relaxed);
}

void FileCache::Trim() {
  while (!lru_.empty() && (index_.size() > max_entries_ || bytes_ > max_bytes_)) Drop(std::prev(lru_.end()));
  // Watches of directories whose files were all evicted: kept for a while (they come back
  // cheaply), but not without bound.
  if (dirs_.size() <= 2 * max_entries_ + 64) return;
  std::vector<Dir*> idle;
  for (auto& [path, dir] : dirs_)
    if (dir.entries == 0) idle.push_back(&dir);
  for (Dir* dir : idle) ForgetDir(dir);
}

FileCache::Dir* FileCache::WatchDir(const std::string& path, int* err) {
  auto it = dirs_.find(path);
  Dir* dir = it == dirs_.end() ? nullptr : &it->second;
  if (dir && (!dir->watch_path.empty() || now_ < dir->retry_at)) return dir;
  kevent::UniqueFd fd;
  if (int e = files_.OpenBeneath(path, &fd, O_PATH | O_DIRECTORY | O_CLOEXEC)) {
    *err = e;
    if (dir) dir->retry_at = now_ + kWatchRetryMs;
    return dir;
  }
  if (!dir) {
    dir = &dirs_[path];
    dir->id = next_dir_id_++;
    dir->path = path;
    dirs_by_id_[dir->id] = dir;
  }
  // Through the fd just opened, inotify watches exactly the directory the policy resolved
  // (no symlink, nothing outside the root), not whatever the path names by then.
  std::string watch = "/proc/self/fd/" + std::to_string(fd.get());
  Ukevent ev{};
  ev.type = kevent::KEVENT_INODE;
  ev.event = kDirEvents;
  ev.user = dir->id;
  kevent::Status st;
  queue_.Ctl(kevent::KEVENT_CTL_ADD, &ev, &watch, 1, &st);
  if (!st.ok() || (ev.ret_flags & kevent::KEVENT_RET_BROKEN)) dir->retry_at = now_ + kWatchRetryMs;
  else dir->watch_path = std::move(watch);
  return dir;
}

void FileCache::Unwatch(Dir* dir) {
  if (dir->watch_path.empty()) return;
  Ukevent ev{};
  ev.type = kevent::KEVENT_INODE;
  ev.event = kDirEvents;
  ev.user = dir->id;
  kevent::Status st;
  queue_.Ctl(kevent::KEVENT_CTL_REMOVE, &ev, &dir->watch_path, 1, &st);
  dir->watch_path.clear();
}

void FileCache::OnEvent(const Ukevent& ev) {
  auto it = dirs_by_id_.find(ev.user);
  if (it == dirs_by_id_.end()) return;  // forgotten meanwhile
  Dir* dir = it->second;
  // The directory itself went away (removed, or moved so its path names something else).
  const bool gone = ev.ret_flags & kevent::KEVENT_RET_BROKEN;
  // A name went away (a creation alone cannot displace a directory): it may have been a
  // subdirectory, whose watches now watch directories found under another path, or none.
  if (gone || (ev.event & kevent::KEVENT_INODE_REMOVE)) ForgetBeneath(dir->path);
  if (gone || dir->entries == 0) return ForgetDir(dir);
  DropDir(dir);
}

void FileCache::DropDir(Dir* dir) {
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->dir == dir) Drop(it);
    it = next;
  }
}

void FileCache::ForgetBeneath(const std::string& path) {
  std::vector<Dir*> doomed;
  for (auto& [p, dir] : dirs_)
    if (Beneath(p, path)) doomed.push_back(&dir);
  for (Dir* dir : doomed) ForgetDir(dir);
}

void FileCache::ForgetDir(Dir* dir) {
  if (dir->entries > 0) DropDir(dir);
  Unwatch(dir);
  dirs_by_id_.erase(dir->id);
  const std::string path = dir->path;
  dirs_.erase(path);
}

void FileCache::ShedFds() {
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->file->fd.valid()) Drop(it);
    it = next;
  }
}

}  // namespace kserver
