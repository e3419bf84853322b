/**
 * One atomic step of the history's consumer group, per stream: find entries the
 * stream lost before the group read them (trimmed by MAXLEN/MINID during a long
 * outage), then read new entries for this consumer (XREADGROUP ... >). Atomic, so
 * no trim can fall between the check and the read and go unnoticed.
 *
 * A gap: the stream's first entry is after the group's last-delivered id, and more
 * entries were removed from the stream (entries-added − length) than the group had
 * read (entries-read). The group's counter is then reset to the removed count
 * (XGROUP SETID ... ENTRIESREAD), so the gap is reported once and its lag stays true.
 *
 * KEYS: the streams. ARGV: group, consumer, COUNT per stream.
 * Returns per stream: { lost (-1: unknown), gap from id, gap to id, last-generated id, entries }.
 */
export const READ_GROUP_SCRIPT = `
local function field(list, name)
  for i = 1, #list, 2 do
    if list[i] == name then return list[i + 1] end
  end
  return nil
end
local function after(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
local out = {}
for i, key in ipairs(KEYS) do
  local stream = redis.call('XINFO', 'STREAM', key)
  local group = nil
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
    if field(g, 'name') == ARGV[1] then group = g end
  end
  if not group then return redis.error_reply('NOGROUP no history group on ' .. key) end
  local length = field(stream, 'length')
  local added = field(stream, 'entries-added')
  local lastGenerated = field(stream, 'last-generated-id')
  local first = field(stream, 'first-entry')
  local delivered = field(group, 'last-delivered-id')
  local read = field(group, 'entries-read')
  local removed = added - length
  local lost, gapTo = 0, ''
  if removed > 0 and (length == 0 or after(first[1], delivered)) then
    gapTo = length == 0 and lastGenerated or first[1]
    if read then
      if removed > read then lost = removed - read end
    else
      lost = -1
    end
    if lost ~= 0 then redis.call('XGROUP', 'SETID', key, ARGV[1], delivered, 'ENTRIESREAD', removed) end
  end
  local entries = {}
  local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', key, '>')
  if reply then entries = reply[1][2] end
  out[i] = { lost, lost ~= 0 and delivered or '', gapTo, lastGenerated, entries }
end
return out
`;

/** What the script answers for one stream. */
export interface StreamStep {
  /** Entries trimmed before the group read them: 0, a count, or -1 (unknown count). */
  readonly lost: number;
  readonly gapFrom: string;
  readonly gapTo: string;
  readonly lastGenerated: string;
  readonly entries: [id: string, fields: string[]][];
}

export function parseSteps(reply: unknown): StreamStep[] {
  return (reply as [number, string, string, string, [string, string[]][]][]).map(([lost, gapFrom, gapTo, lastGenerated, entries]) => ({
    lost: Number(lost), gapFrom, gapTo, lastGenerated, entries,
  }));
}

/** The epoch-ms part of a stream entry id. */
export function entryTime(id: string): string {
  const ms = Number(id.split('-')[0]);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : id;
}
