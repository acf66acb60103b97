/** Where rooms live: the pure room table, in memory or in Redis (Lua), and its latency. */
export { LatencyHistogram } from "./_latency.ts";
export { parseRedisUrl, RedisRoomStore } from "./_redis_room_store.ts";
export { MemoryRoomStore } from "./_room_store.ts";
export type { RoomStore } from "./_room_store.ts";
export { DEFAULT_ROOM_LIMITS } from "./_rooms.ts";
export type { RoomAnswer } from "./_room.ts";
export type { RoomLimits } from "./_rooms.ts";
