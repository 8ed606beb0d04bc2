import { describe, expect, it } from 'vitest';
import { parseBandwidthSchedule } from '../../src/main/engine/transfer/bandwidth-schedule.js';
import { Throttle, type Clock } from '../../src/main/engine/transfer/throttle.js';

const MiB = 1024 * 1024;
// 2026-11-23 is a Monday.
const at = (day: number, hh: number, mm = 0) => new Date(2026, 10, 22 + day, hh, mm);

describe('bandwidth timetable (rclone syntax)', () => {
  it('applies the weekly slot in force, wrapping around the week', () => {
    const s = parseBandwidthSchedule('Mon-08:00,20M Mon-20:00,off Fri-08:00,512k');
    expect(s.rateAt(at(1, 9))).toBe(20 * MiB);
    expect(s.rateAt(at(1, 21))).toBeNull();
    expect(s.rateAt(at(5, 12))).toBe(512 * 1024);
    // Sunday before Monday 08:00 is still under Friday's slot.
    expect(s.rateAt(at(0, 23))).toBe(512 * 1024);
    expect(s.rateAt(at(1, 7, 59))).toBe(512 * 1024);
  });

  it('knows daily timetables, single rates, UP:DOWN pairs and bare KiB numbers', () => {
    const d = parseBandwidthSchedule('08:00,1M 18:00,off');
    expect(d.rateAt(at(3, 12))).toBe(MiB);
    expect(d.rateAt(at(3, 3))).toBeNull();
    expect(parseBandwidthSchedule('10M:100k').rateAt(new Date())).toBe(10 * MiB);
    expect(parseBandwidthSchedule('512').rateAt(new Date())).toBe(512 * 1024);
    expect(parseBandwidthSchedule('off').rateAt(new Date())).toBeNull();
  });

  it('rejects malformed entries with what to write', () => {
    expect(() => parseBandwidthSchedule('Mon-8,20M')).toThrow(/HH:MM/);
    expect(() => parseBandwidthSchedule('Xyz-08:00,1M')).toThrow(/weekday/);
    expect(() => parseBandwidthSchedule('Mon-08:00,1M 09:00,off')).toThrow(/every entry or in none/);
    expect(() => parseBandwidthSchedule('08:00,fast')).toThrow(/not a rate/);
  });
});

/** A clock that advances only when slept on: the throttle's timing is exact and instant. */
function fakeClock(start: Date): Clock & { t: number } {
  const c = {
    t: start.getTime(),
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

describe('Throttle', () => {
  it('never lets more bytes through than the limit in force allows, over any stretch of time', async () => {
    const clock = fakeClock(at(1, 9));
    const throttle = new Throttle(parseBandwidthSchedule('2M'), clock);
    const t0 = clock.now();
    const granted: { t: number; total: number }[] = [];
    let total = 0;
    for (let i = 0; i < 200; i++) {
      await throttle.take(64 * 1024);
      total += 64 * 1024;
      granted.push({ t: clock.now(), total });
    }
    const seconds = (clock.now() - t0) / 1000;
    const burst = 2 * MiB * 0.1;
    expect(total).toBeLessThanOrEqual(2 * MiB * seconds + burst);
    // Every window from the start: no faster than the limit plus one burst.
    for (const g of granted) expect(g.total).toBeLessThanOrEqual(2 * MiB * ((g.t - t0) / 1000) + burst + 1);
  });

  it('switches limits when the timetable changes during a transfer', async () => {
    const clock = fakeClock(at(1, 19, 59));
    const throttle = new Throttle(parseBandwidthSchedule('Mon-08:00,1M Mon-20:00,off'), clock);
    // 30 MiB at 1 MiB/s would take 30 s; after 60 s the limit is off and the rest goes at once.
    for (let i = 0; i < 120; i++) await throttle.take(MiB);
    const elapsed = (clock.now() - at(1, 19, 59).getTime()) / 1000;
    expect(elapsed).toBeGreaterThanOrEqual(59);
    expect(elapsed).toBeLessThan(62);
  });

  it('pays for one large request before returning', async () => {
    const clock = fakeClock(at(1, 9));
    const throttle = new Throttle(parseBandwidthSchedule('1M'), clock);
    await throttle.take(16 * MiB);
    expect(clock.now() - at(1, 9).getTime()).toBeGreaterThanOrEqual(15_900);
  });
});
