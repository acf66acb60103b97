/**
 * The room state machine of `_rooms.ts`, in Lua, run atomically inside Redis
 * (one EVALSHA per request, so one round trip). The clock comes from the
 * calling instance (`now`, ms) so every instance and the tests apply the same
 * rules; each key also carries a real Redis TTL a little past its room's
 * deadline, so nothing outlives its room even if no instance sweeps.
 *
 * Keys, under a prefix P:
 *   P room:N     string, the room as JSON (sender, receiver, token, owner relay)
 *   P sender:ID  string, the nameplate a sender client id holds
 *   P token:T    string, the nameplate of a paired room, by token (hex)
 *   P rooms      zset, nameplate -> deadline (the sweep's index)
 *   P src:S      zset, nameplate -> deadline, the open rooms source S created (its quota)
 *   P lsrc:S     zset, t:T -> deadline, source S's released rooms (bounded apart, ARGV[19])
 *   P free       zset, nameplates freed below P high (lowest first)
 *   P high       string, the lowest never-allocated nameplate
 *   P outlived:ID  string, when sender ID's room outlived maxWait (kept for idle)
 *   P released:T  string, {s, r, d}: the client ids of a paired room both peers left (its
 *                 nameplate is free again) until its deadline d; counted in lsrc:S as t:T
 *   P released   zset, t:T -> deadline, the released rooms (counted as rooms)
 *   P between:N  string, until when (maxWait after a paired room on N whose sender committed to
 *                a successor was freed, or until that sender registers) its receivers get error 3
 *
 * ARGV: op, prefix, now, then per op (see `RedisRoomStore`).
 * Answers are JSON: {"e":code,"n":"7"} for an error, else the room
 * {"n":7,"s":{...},"r":{...},"t":"hex","relay":"h:p"} for the caller to read
 * from its role's side.
 */
export const ROOM_SCRIPT = `
local op, P, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local idle, maxWait, linger = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local GRACE = 1000

local function deadline(room)
  if room.pairedAt then return room.pairedAt + linger end
  return math.min(room.s.seen + idle, room.createdAt + maxWait)
end

local function high()
  return tonumber(redis.call('GET', P .. 'high') or '1')
end

local function free(n)
  local raw = redis.call('GET', P .. 'room:' .. n)
  redis.call('ZREM', P .. 'rooms', n)
  if raw then
    local room = cjson.decode(raw)
    redis.call('DEL', P .. 'room:' .. n)
    if redis.call('GET', P .. 'sender:' .. room.s.id) == tostring(n) then
      redis.call('DEL', P .. 'sender:' .. room.s.id)
    end
    redis.call('ZREM', P .. 'src:' .. room.source, n)
    if room.t then redis.call('DEL', P .. 'token:' .. room.t) end
    if room.r and room.s.succ then
      redis.call('SET', P .. 'between:' .. n, now + maxWait, 'PX', maxWait + GRACE)
    end
  end
  if n < high() then redis.call('ZADD', P .. 'free', n, n) end
end

-- Frees a room past its deadline. A waiting room that outlived maxWait is remembered for idle, so
-- its sender's next register is not given the room back as a restart's would be (_rooms.ts).
local function expire(n, raw)
  if raw then
    local room = cjson.decode(raw)
    if not room.pairedAt and now - room.createdAt >= maxWait then
      redis.call('SET', P .. 'outlived:' .. room.s.id, now, 'PX', idle + GRACE)
    end
  end
  free(n)
end

local function outlived(id)
  local at = redis.call('GET', P .. 'outlived:' .. id)
  return at and now - tonumber(at) < idle
end

local function sweep(limit)
  local due = redis.call('ZRANGEBYSCORE', P .. 'rooms', '-inf', now, 'LIMIT', 0, limit)
  for _, n in ipairs(due) do
    n = tonumber(n)
    expire(n, redis.call('GET', P .. 'room:' .. n))
  end
end

-- The live room on nameplate n (decoded, and as stored), freeing it first if it is past its deadline.
local function live(n)
  local score = redis.call('ZSCORE', P .. 'rooms', n)
  if not score then return nil end
  local raw = redis.call('GET', P .. 'room:' .. n)
  if tonumber(score) <= now or not raw then
    expire(n, raw)
    return nil
  end
  return cjson.decode(raw), raw
end

-- Stores the room and its indexes; returns it as stored (JSON), which is also the answer.
local function save(room)
  local d = deadline(room)
  local ttl = math.max(d - now, 0) + GRACE
  local n = room.n
  local json = cjson.encode(room)
  redis.call('SET', P .. 'room:' .. n, json, 'PX', ttl)
  redis.call('ZADD', P .. 'rooms', d, n)
  redis.call('SET', P .. 'sender:' .. room.s.id, n, 'PX', ttl)
  local src = P .. 'src:' .. room.source
  redis.call('ZADD', src, d, n)
  if redis.call('PTTL', src) < ttl then redis.call('PEXPIRE', src, ttl) end
  if room.t then redis.call('SET', P .. 'token:' .. room.t, n, 'PX', ttl) end
  return json
end

local function taken(n)
  return live(n) ~= nil
end

local function allocate(max)
  while true do
    local popped = redis.call('ZPOPMIN', P .. 'free')
    if #popped == 0 then break end
    local n = tonumber(popped[1])
    if not taken(n) then return n end
  end
  local h = high()
  while h <= max and taken(h) do h = h + 1 end
  if h > max then return nil end
  redis.call('SET', P .. 'high', h + 1)
  return h
end

local function err(code, nameplate)
  if nameplate and nameplate ~= '' then return cjson.encode({ e = code, n = nameplate }) end
  return cjson.encode({ e = code })
end

if op == 'register' then
  local role, id, wanted, poll = ARGV[7], ARGV[8], ARGV[9], ARGV[10] == '1'
  local source, info, token, relay = ARGV[11], ARGV[12], ARGV[13], ARGV[14]
  local maxRooms, maxPerSource, maxNameplate = tonumber(ARGV[15]), tonumber(ARGV[16]), tonumber(ARGV[17])
  local succ, maxReleasedPerSource = ARGV[18] == '1', tonumber(ARGV[19])
  local want = tonumber(wanted)
  if role == 'send' then
    local held = redis.call('GET', P .. 'sender:' .. id)
    if held then
      local room, raw = live(tonumber(held))
      if room and room.s.id == id then
        if want and want ~= room.n then return err(6, wanted) end
        -- Paired: nothing the sender says changes the room or its deadline; no write.
        if room.r then return raw end
        room.s.seen = now
        room.s.info = info
        -- The relay follows the waiting sender: its instance is alive.
        if relay ~= '' then room.relay = relay end
        return save(room)
      end
    end
    -- A new room: free what is due first (nameplates, and the quotas' indexes).
    sweep(16)
    if poll or outlived(id) then return err(7, wanted) end
    if want and taken(want) then return err(2, wanted) end
    if redis.call('ZCARD', P .. 'rooms') >= maxRooms then
      sweep(1000000)
      if redis.call('ZCARD', P .. 'rooms') >= maxRooms then return err(4) end
    end
    local src, lsrc = P .. 'src:' .. source, P .. 'lsrc:' .. source
    redis.call('ZREMRANGEBYSCORE', src, '-inf', now)
    redis.call('ZREMRANGEBYSCORE', lsrc, '-inf', now)
    if redis.call('ZCARD', src) >= maxPerSource then return err(5) end
    if redis.call('ZCARD', lsrc) >= maxReleasedPerSource then
      return cjson.encode({ e = 5, l = maxReleasedPerSource })
    end
    local n = want or allocate(maxNameplate)
    if not n then return err(4) end
    local room = { n = n, source = source, createdAt = now, s = { id = id, seen = now, info = info } }
    if succ then room.s.succ = true end
    redis.call('DEL', P .. 'between:' .. n)
    if relay ~= '' then room.relay = relay end
    return save(room)
  end
  local room, raw
  if want then room, raw = live(want) end
  if not room then
    if poll then return err(7, wanted) end
    local between = want and redis.call('GET', P .. 'between:' .. want)
    if between and tonumber(between) > now then return err(3, wanted) end
    return err(1, wanted)
  end
  if room.s.id == id then return err(6, wanted) end
  if room.r then
    if room.r.id ~= id then return err(3, wanted) end
    return raw
  end
  room.r = { id = id, seen = now, info = info }
  room.t = token
  room.pairedAt = now
  -- The sender's instance runs no relay: the receiver's relays for both.
  if not room.relay and relay ~= '' then room.relay = relay end
  -- The answer says this request paired the room (stored rooms never do).
  return '{"paired":true,' .. string.sub(save(room), 2)
elseif op == 'leave' then
  local id = ARGV[7]
  local room = live(tonumber(ARGV[8]))
  if not room then return 0 end
  if not room.r then
    if room.s.id ~= id then return 0 end
    free(room.n)
    return 1
  end
  local side = (room.s.id == id and room.s) or (room.r.id == id and room.r)
  if not side then return 0 end
  side.left = true
  if not (room.s.left and room.r.left) then
    save(room)
    return 1
  end
  -- Both peers have their answers: the nameplate is free again (and its place in the source's
  -- quota); the token lives out the linger, counted among the source's released rooms.
  local d = deadline(room)
  local ttl = math.max(d - now, 0) + GRACE
  local pair = cjson.encode({ s = room.s.id, r = room.r.id, d = d })
  redis.call('SET', P .. 'released:' .. room.t, pair, 'PX', ttl)
  free(room.n)
  for _, index in ipairs({ P .. 'lsrc:' .. room.source, P .. 'released' }) do
    redis.call('ZADD', index, d, 't:' .. room.t)
    if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
  end
  return 1
elseif op == 'peers' then
  local n = redis.call('GET', P .. 'token:' .. ARGV[7])
  local room = n and live(tonumber(n))
  if room and room.t == ARGV[7] and room.r then return { room.s.id, room.r.id } end
  local released = redis.call('GET', P .. 'released:' .. ARGV[7])
  local pair = released and cjson.decode(released)
  if not pair or pair.d <= now then return false end
  return { pair.s, pair.r }
elseif op == 'rooms' then
  sweep(1000000)
  redis.call('ZREMRANGEBYSCORE', P .. 'released', '-inf', now)
  return redis.call('ZCARD', P .. 'rooms') + redis.call('ZCARD', P .. 'released')
end
return redis.error_reply('unknown op ' .. tostring(op))
`;
