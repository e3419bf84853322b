/**
 * The atomic steps of the Redis chunk bus (each one script, so instances racing on one job agree)
 * and the stream entry format of a chunk.
 */
import type { LogChunkModel, LogSectionModel } from '../log-types.ts';

/** Takes a free claim or renews our own. KEYS: claim. ARGV: instance token, lease (ms). 1 when held. */
export const CLAIM = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** Deletes the claim only while we hold it. KEYS: claim. ARGV: instance token. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * Appends a chunk, then trims (exactly, MINID) to the newest entries whose text fits in
 * `retainBytes`, always keeping the new one, and sets the stream to expire `expireMs` after this
 * publish. Each entry carries `textTotal`, the text bytes appended to the stream through it, so
 * the cut is found by reading only the entries it removes.
 * KEYS: stream. ARGV: offset, nextOffset, text, sections JSON, complete (1/0), retainBytes, expireMs.
 * Returns the new entry id.
 */
export const PUBLISH = `
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local total = string.len(ARGV[3])
if newest then total = total + (tonumber(field(newest[2], 'textTotal')) or 0) end
local id = redis.call('XADD', KEYS[1], '*', 'offset', ARGV[1], 'nextOffset', ARGV[2], 'text', ARGV[3],
  'sections', ARGV[4], 'complete', ARGV[5], 'textTotal', total)
local floor = total - tonumber(ARGV[6])
local keep = nil
local from = '-'
while not keep do
  local page = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', 32)
  if #page == 0 then keep = id end
  for _, entry in ipairs(page) do
    local through = tonumber(field(entry[2], 'textTotal')) or 0
    local starts = through - string.len(field(entry[2], 'text') or '')
    if entry[1] == id or starts >= floor then
      keep = entry[1]
      break
    end
  end
  if not keep then from = '(' .. page[#page][1] end
end
redis.call('XTRIM', KEYS[1], 'MINID', keep)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return id
`;

/** Milliseconds on the Redis clock, the one clock all instances share. */
const REDIS_NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Marks this instance interested until now + ttl (Redis clock), drops lapsed marks, and lets the
 * set expire with its last mark. KEYS: interest sorted set. ARGV: instance token, ttl (ms).
 */
export const MARK_INTEREST = `${REDIS_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', tonumber(last[2])))
return 1
`;

/** How many instances' marks have not lapsed. KEYS: interest sorted set. */
export const COUNT_INTEREST = `${REDIS_NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.0f', now), '+inf')
`;

/** The XADD arguments of a chunk (the order PUBLISH expects). */
export function chunkArguments(chunk: LogChunkModel): string[] {
  return [String(chunk.offset), String(chunk.nextOffset), chunk.text, JSON.stringify(chunk.sections), chunk.complete ? '1' : '0'];
}

/** A stream entry's fields back into a chunk; null for an entry that is not one (never guessed). */
export function chunkOfFields(fields: readonly string[]): LogChunkModel | null {
  const value = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) value.set(fields[i]!, fields[i + 1]!);
  const offset = Number(value.get('offset'));
  const nextOffset = Number(value.get('nextOffset'));
  const text = value.get('text');
  const complete = value.get('complete');
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(nextOffset) || offset < 0 || nextOffset < offset) return null;
  if (text === undefined || (complete !== '1' && complete !== '0')) return null;
  const sections = parseSections(value.get('sections'));
  if (!sections) return null;
  return { offset, nextOffset, text, sections, complete: complete === '1' };
}

function parseSections(json: string | undefined): LogSectionModel[] | null {
  if (json === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? (parsed as LogSectionModel[]) : null;
  } catch {
    return null;
  }
}
