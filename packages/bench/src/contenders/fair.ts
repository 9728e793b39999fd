// Settings every generated peer config shares, so no contender closes keep-alive connections
// earlier than another (nginx's default is 1000 requests, lighttpd's 1000 too; ours: none).
export const KEEPALIVE_REQUESTS = 1_000_000;
export const KEEPALIVE_IDLE_SEC = 65;
