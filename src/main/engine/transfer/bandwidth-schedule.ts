// rclone's --bwlimit timetable: "Mon-08:00,20M Mon-20:00,off", "08:00,512k 23:00,off", or one
// rate ("10M", "off"). A rate may be "UP:DOWN" (we upload, so UP counts). Bare numbers are KiB/s
// and suffixes are powers of 1024, as in rclone, so an operator's rclone line means the same here.

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface Slot {
  /** Minutes from Sunday 00:00 (weekly) or from 00:00 (daily). */
  at: number;
  /** Bytes per second; null = no limit. */
  rate: number | null;
}

export interface BandwidthSchedule {
  /** Limit in force at `when`, in bytes per second; null = unlimited. */
  rateAt(when: Date): number | null;
  readonly text: string;
}

export class BandwidthError extends Error {}

function parseRate(text: string): number | null {
  const up = text.split(':')[0]!.trim();
  if (/^off$/i.test(up) || up === '0') return null;
  const m = /^(\d+(?:\.\d+)?)([bkmgtp]?)$/i.exec(up);
  if (!m) throw new BandwidthError(`"${text}" is not a rate; write e.g. 512k, 20M, 1.5G or off`);
  const mult: Record<string, number> = { b: 1, '': 1024, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.round(Number(m[1]) * mult[(m[2] ?? '').toLowerCase()]!);
}

function parseTime(text: string, entry: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59)
    throw new BandwidthError(`"${entry}": write the time as HH:MM, e.g. Mon-08:00,20M`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function parseBandwidthSchedule(text: string): BandwidthSchedule {
  const entries = text.trim().split(/\s+/).filter(Boolean);
  if (entries.length === 0) return { text, rateAt: () => null };
  if (entries.length === 1 && !entries[0]!.includes(',')) {
    const rate = parseRate(entries[0]!);
    return { text, rateAt: () => rate };
  }
  let weekly: boolean | null = null;
  const slots: Slot[] = entries.map((entry) => {
    const comma = entry.indexOf(',');
    if (comma < 0) throw new BandwidthError(`"${entry}": each timetable entry is TIME,RATE, e.g. Mon-08:00,20M or 20:00,off`);
    const when = entry.slice(0, comma);
    const rate = parseRate(entry.slice(comma + 1));
    const dash = when.indexOf('-');
    const isWeekly = dash > 0;
    if (weekly !== null && weekly !== isWeekly) throw new BandwidthError(`"${entry}": use weekdays in every entry or in none`);
    weekly = isWeekly;
    if (!isWeekly) return { at: parseTime(when, entry), rate };
    const day = DAYS.indexOf(when.slice(0, 3).toLowerCase());
    if (day < 0 || when.slice(0, dash).length < 3)
      throw new BandwidthError(`"${entry}": the weekday is one of Mon Tue Wed Thu Fri Sat Sun`);
    return { at: day * 1440 + parseTime(when.slice(dash + 1), entry), rate };
  });
  slots.sort((a, b) => a.at - b.at);
  const isWeekly = weekly === true;
  return {
    text,
    rateAt(when: Date) {
      const minute = when.getHours() * 60 + when.getMinutes() + (isWeekly ? when.getDay() * 1440 : 0);
      // The latest slot that started at or before now; before the first one, the cycle wraps.
      let current = slots[slots.length - 1]!;
      for (const s of slots) if (s.at <= minute) current = s;
      return current.rate;
    },
  };
}
