#include "ranges.h"

#include <algorithm>

#include "text.h"

namespace kserver {
namespace {

enum class One { kBad, kOk, kUnsatisfiable };

// "first-last", "first-" or "-suffix".
One ParseOne(std::string_view v, uint64_t size, ByteRange* out) {
  const size_t dash = v.find('-');
  if (dash == std::string_view::npos) return One::kBad;
  const std::string_view a = v.substr(0, dash), b = v.substr(dash + 1);
  uint64_t first = 0, last = 0;
  if (a.empty()) {
    if (!ParseDecimal(b, &last)) return One::kBad;
    if (last == 0 || size == 0) return One::kUnsatisfiable;
    *out = {size - std::min(last, size), size - 1};
    return One::kOk;
  }
  if (!ParseDecimal(a, &first)) return One::kBad;
  if (b.empty()) {
    last = UINT64_MAX;
  } else if (!ParseDecimal(b, &last) || last < first) {
    return One::kBad;
  }
  if (first >= size) return One::kUnsatisfiable;
  *out = {first, std::min(last, size - 1)};
  return One::kOk;
}

}  // namespace

RangeKind ParseRanges(std::string_view v, uint64_t size, size_t max_ranges, std::vector<ByteRange>* ranges) {
  ranges->clear();
  v = TrimOws(v);
  if (v.size() < 6 || (v.substr(0, 6) != "bytes=" && v.substr(0, 6) != "Bytes=")) return RangeKind::kNone;
  v.remove_prefix(6);
  uint64_t requested = 0;
  bool any = false;
  while (!v.empty() || !any) {
    const size_t comma = v.find(',');
    const std::string_view item = TrimOws(v.substr(0, comma));
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    if (item.empty()) {  // RFC 9110 5.6.1: empty list elements are ignored
      if (comma == std::string_view::npos) break;
      continue;
    }
    any = true;
    ByteRange r{};
    switch (ParseOne(item, size, &r)) {
      case One::kBad: ranges->clear(); return RangeKind::kNone;
      case One::kUnsatisfiable: continue;  // satisfiable if any other range is
      case One::kOk: break;
    }
    requested += r.length();
    if (requested > size) {
      ranges->clear();
      return RangeKind::kNone;
    }
    ranges->push_back(r);
  }
  if (!any) return RangeKind::kNone;
  if (ranges->empty()) return RangeKind::kUnsatisfiable;
  std::sort(ranges->begin(), ranges->end(), [](const ByteRange& x, const ByteRange& y) { return x.first < y.first; });
  size_t out = 0;
  for (size_t i = 1; i < ranges->size(); ++i) {
    ByteRange& cur = (*ranges)[out];
    const ByteRange& r = (*ranges)[i];
    if (r.first <= cur.last + 1) {  // overlapping or adjacent
      cur.last = std::max(cur.last, r.last);
    } else {
      (*ranges)[++out] = r;
    }
  }
  ranges->resize(out + 1);
  if (ranges->size() > max_ranges) {
    ranges->clear();
    return RangeKind::kNone;
  }
  return RangeKind::kSatisfiable;
}

}  // namespace kserver
