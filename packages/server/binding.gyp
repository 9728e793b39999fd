{
  "variables": {
    "llhttp_dir": "<!(node scripts/find-llhttp.mjs stage)"
  },
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=c++17"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-fno-exceptions"],
    "cflags": ["-Wall", "-Wextra"]
  },
  "targets": [
    {
      # Hidden: node exports its own llhttp (another version, another struct layout); our
      # calls must bind to this copy, not to node's symbols.
      "target_name": "llhttp",
      "type": "static_library",
      "sources": ["<(llhttp_dir)/llhttp.c", "<(llhttp_dir)/api.c", "<(llhttp_dir)/http.c"],
      "include_dirs": ["<(llhttp_dir)"],
      "cflags": ["-fPIC", "-fvisibility=hidden"],
      "direct_dependent_settings": { "include_dirs": ["<(llhttp_dir)"] }
    },
    {
      "target_name": "kevent_server",
      "sources": [
        "src/native/access_log.cc",
        "src/native/addon.cc",
        "src/native/chunked.cc",
        "src/native/conn_spares.cc",
        "src/native/connection.cc",
        "src/native/encoding.cc",
        "src/native/dynamic.cc",
        "src/native/engine.cc",
        "src/native/error_pages.cc",
        "src/native/file_cache.cc",
        "src/native/file_info.cc",
        "src/native/http_date.cc",
        "src/native/http_parser.cc",
        "src/native/io_thread.cc",
        "src/native/listener.cc",
        "src/native/listing.cc",
        "src/native/mime.cc",
        "src/native/offload.cc",
        "src/native/multipart.cc",
        "src/native/path_pattern.cc",
        "src/native/peer.cc",
        "src/native/precompressed.cc",
        "src/native/ranges.cc",
        "src/native/response.cc",
        "src/native/rules.cc",
        "src/native/static_files.cc",
        "src/native/tcp_progress.cc",
        "src/native/url_path.cc",
        "../kevent-native/src/addon/errors.cc"
      ],
      "include_dirs": ["../kevent-native/src/addon"],
      "dependencies": [
        "llhttp",
        "../kevent-native/binding.gyp:kevent_core",
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"
      ]
    }
  ]
}
