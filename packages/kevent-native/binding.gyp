{
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=c++17"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-fno-exceptions"],
    "cflags": ["-Wall", "-Wextra"]
  },
  "targets": [
    {
      "target_name": "kevent_core",
      "type": "static_library",
      "sources": [
        "src/core/aio_pool.cc",
        "src/core/queue.cc",
        "src/core/signal_hub.cc"
      ],
      "cflags": ["-fPIC"],
      "direct_dependent_settings": { "include_dirs": ["src/core"] }
    },
    {
      "target_name": "kevent_native",
      "sources": [
        "src/addon/addon.cc",
        "src/addon/aio_wrap.cc",
        "src/addon/errors.cc",
        "src/addon/queue_wrap.cc",
        "src/addon/sockets.cc",
        "src/addon/ukevent_js.cc"
      ],
      "include_dirs": ["src/core"],
      "dependencies": [
        "kevent_core",
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"
      ]
    },
    {
      "target_name": "events_bench",
      "type": "executable",
      "sources": [
        "bench/events_bench.cc",
        "bench/readers.cc",
        "bench/transports.cc"
      ],
      "dependencies": ["kevent_core"],
      "ldflags": ["-pthread"]
    },
    {
      "target_name": "herd_bench",
      "type": "executable",
      "sources": ["bench/herd_bench.cc", "bench/herd_acceptors.cc"],
      "dependencies": ["kevent_core"],
      "ldflags": ["-pthread"]
    },
    {
      "target_name": "aio_bench",
      "type": "executable",
      "sources": ["bench/aio_bench.cc"],
      "dependencies": ["kevent_core"],
      "ldflags": ["-pthread"]
    }
  ]
}
