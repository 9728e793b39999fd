#include "mime.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace kserver {
namespace {

// The types a static site actually serves (IANA names; what nginx's mime.types and
// lighttpd's mime table agree on).
const std::unordered_map<std::string, std::string>& Table() {
  static const std::unordered_map<std::string, std::string> table = {
      {"html", "text/html"}, {"htm", "text/html"}, {"shtml", "text/html"}, {"xhtml", "application/xhtml+xml"},
      {"css", "text/css"}, {"js", "text/javascript"}, {"mjs", "text/javascript"}, {"cjs", "text/javascript"},
      {"json", "application/json"}, {"map", "application/json"}, {"jsonld", "application/ld+json"},
      {"webmanifest", "application/manifest+json"}, {"xml", "text/xml"}, {"rss", "application/rss+xml"},
      {"atom", "application/atom+xml"}, {"txt", "text/plain"}, {"text", "text/plain"}, {"log", "text/plain"},
      {"md", "text/markdown"}, {"markdown", "text/markdown"}, {"csv", "text/csv"}, {"tsv", "text/tab-separated-values"},
      {"ics", "text/calendar"}, {"vtt", "text/vtt"}, {"yaml", "text/yaml"}, {"yml", "text/yaml"},
      {"wasm", "application/wasm"}, {"pdf", "application/pdf"}, {"zip", "application/zip"},
      {"gz", "application/gzip"}, {"tgz", "application/gzip"}, {"br", "application/octet-stream"},
      {"bz2", "application/x-bzip2"}, {"xz", "application/x-xz"}, {"zst", "application/zstd"},
      {"tar", "application/x-tar"}, {"7z", "application/x-7z-compressed"}, {"rar", "application/vnd.rar"},
      {"doc", "application/msword"}, {"rtf", "application/rtf"}, {"epub", "application/epub+zip"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
      {"odt", "application/vnd.oasis.opendocument.text"}, {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
      {"png", "image/png"}, {"apng", "image/apng"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
      {"gif", "image/gif"}, {"webp", "image/webp"}, {"avif", "image/avif"}, {"svg", "image/svg+xml"},
      {"svgz", "image/svg+xml"}, {"ico", "image/vnd.microsoft.icon"}, {"bmp", "image/bmp"},
      {"tif", "image/tiff"}, {"tiff", "image/tiff"}, {"jxl", "image/jxl"}, {"heic", "image/heic"},
      {"woff", "font/woff"}, {"woff2", "font/woff2"}, {"ttf", "font/ttf"}, {"otf", "font/otf"},
      {"eot", "application/vnd.ms-fontobject"}, {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"},
      {"oga", "audio/ogg"}, {"opus", "audio/ogg"}, {"wav", "audio/wav"}, {"flac", "audio/flac"},
      {"aac", "audio/aac"}, {"m4a", "audio/mp4"}, {"weba", "audio/webm"}, {"mid", "audio/midi"},
      {"midi", "audio/midi"}, {"mp4", "video/mp4"}, {"m4v", "video/mp4"}, {"webm", "video/webm"},
      {"ogv", "video/ogg"}, {"mov", "video/quicktime"}, {"avi", "video/x-msvideo"}, {"mkv", "video/x-matroska"},
      {"mpeg", "video/mpeg"}, {"mpg", "video/mpeg"}, {"ts", "video/mp2t"}, {"m3u8", "application/vnd.apple.mpegurl"},
      {"mpd", "application/dash+xml"}, {"swf", "application/x-shockwave-flash"}, {"jar", "application/java-archive"},
      {"apk", "application/vnd.android.package-archive"}, {"exe", "application/vnd.microsoft.portable-executable"},
      {"bin", "application/octet-stream"}, {"iso", "application/octet-stream"}, {"dmg", "application/octet-stream"},
      {"deb", "application/vnd.debian.binary-package"}, {"rpm", "application/x-rpm"},
      {"sh", "application/x-sh"}, {"pem", "application/x-pem-file"}, {"crt", "application/x-x509-ca-cert"},
  };
  return table;
}

bool IsText(const std::string& type) {
  return type.compare(0, 5, "text/") == 0 || type == "application/json" || type == "application/ld+json" ||
         type == "application/manifest+json" || type == "application/xhtml+xml" || type == "image/svg+xml" ||
         type == "application/rss+xml" || type == "application/atom+xml";
}

}  // namespace

std::string ContentTypeFor(std::string_view path, const std::map<std::string, std::string>& extra) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return "application/octet-stream";
  std::string ext(path.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string type;
  if (auto mine = extra.find(ext); mine != extra.end()) {
    type = mine->second;
    if (type.find(';') != std::string::npos) return type;  // parameters of its own, charset included
  } else if (auto it = Table().find(ext); it != Table().end()) {
    type = it->second;
  } else {
    return "application/octet-stream";
  }
  return IsText(type) ? type + "; charset=utf-8" : type;
}

}  // namespace kserver
