// Range request headers (RFC 9110 14.1-14.2): "bytes=" with one or more ranges, resolved
// against a representation's size, sorted and coalesced so they cannot amplify a response.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace kserver {

struct ByteRange {
  uint64_t first, last;  // inclusive
  uint64_t length() const { return last - first + 1; }
};

enum class RangeKind {
  kNone,           // no usable Range: the whole representation with 200
  kSatisfiable,    // `ranges` holds one or more, sorted, disjoint and not adjacent
  kUnsatisfiable,  // 416 with "Content-Range: bytes */size"
};

// Syntax errors or other units give kNone (RFC 9110 14.2 lets a server ignore Range). So do
// requests that would amplify: more than `max_ranges` ranges after coalescing, or ranges whose
// lengths, as requested, add up to more than the file ("0-,0-,0-"), as nginx does.
RangeKind ParseRanges(std::string_view header, uint64_t size, size_t max_ranges, std::vector<ByteRange>* ranges);

}  // namespace kserver
