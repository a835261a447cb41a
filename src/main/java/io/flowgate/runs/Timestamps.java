package io.flowgate.runs;

import java.time.Instant;
import java.time.LocalDate;

/**
 * A run's timestamps as text, exactly as {@link Instant#toString()} and {@link Instant#parse} write and read them
 * ({@code 2026-11-22T23:57:01.123456Z}: UTC, the fraction in 3, 6 or 9 digits or none), without going through a
 * {@code DateTimeFormatter}. A sync run formats its three timestamps twice (its answer and its Redis record) and a
 * queued run's worker parses two: the formatter's generic printer and parser were ~3% of the gateway's CPU per sync
 * trigger in a profile. Years outside 0000-9999, and any text not in that form, go to the JDK. Thread-safe.
 */
final class Timestamps {
  private static final long SECONDS_PER_DAY = 86_400;
  // 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in epoch seconds: the range written with a four-digit year.
  private static final long MIN_FAST = -62_167_219_200L;
  private static final long MAX_FAST = 253_402_300_800L;

  private Timestamps() {}

  /** {@code instant.toString()}. */
  static String format(Instant instant) {
    long seconds = instant.getEpochSecond();
    if (seconds < MIN_FAST || seconds >= MAX_FAST) {
      return instant.toString();
    }
    long day = Math.floorDiv(seconds, SECONDS_PER_DAY);
    int secondOfDay = (int) Math.floorMod(seconds, SECONDS_PER_DAY);
    LocalDate date = LocalDate.ofEpochDay(day);
    int nano = instant.getNano();
    char[] c = new char[nano == 0 ? 20 : nano % 1_000_000 == 0 ? 24 : nano % 1000 == 0 ? 27 : 30];
    digits(c, 0, date.getYear(), 4);
    c[4] = '-';
    digits(c, 5, date.getMonthValue(), 2);
    c[7] = '-';
    digits(c, 8, date.getDayOfMonth(), 2);
    c[10] = 'T';
    digits(c, 11, secondOfDay / 3600, 2);
    c[13] = ':';
    digits(c, 14, secondOfDay / 60 % 60, 2);
    c[16] = ':';
    digits(c, 17, secondOfDay % 60, 2);
    if (nano != 0) {
      c[19] = '.';
      int width = c.length - 21;
      digits(c, 20, nano / (width == 3 ? 1_000_000 : width == 6 ? 1000 : 1), width);
    }
    c[c.length - 1] = 'Z';
    return new String(c);
  }

  /** {@code Instant.parse(text)}; fails as it does on text it cannot read. */
  static Instant parse(CharSequence text) {
    int n = text.length();
    if (n < 20 || n > 30 || text.charAt(n - 1) != 'Z' || text.charAt(4) != '-' || text.charAt(7) != '-'
        || text.charAt(10) != 'T' || text.charAt(13) != ':' || text.charAt(16) != ':') {
      return Instant.parse(text);
    }
    int year = number(text, 0, 4);
    int month = number(text, 5, 2);
    int day = number(text, 8, 2);
    int hour = number(text, 11, 2);
    int minute = number(text, 14, 2);
    int second = number(text, 17, 2);
    int nano = 0;
    if (n > 20) {
      int width = n - 21;
      if (text.charAt(19) != '.' || width < 1 || width > 9) {
        return Instant.parse(text);
      }
      nano = number(text, 20, width);
      for (int i = width; i < 9; i++) {
        nano *= 10;
      }
    }
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0
        || minute > 59 || second < 0 || second > 59 || nano < 0 || day > LocalDate.of(year, month, 1).lengthOfMonth()) {
      // Not digits where digits belong, out of range, or a leap second: the JDK says what is wrong, or reads it.
      return Instant.parse(text);
    }
    long epochDay = LocalDate.of(year, month, day).toEpochDay();
    return Instant.ofEpochSecond(epochDay * SECONDS_PER_DAY + hour * 3600L + minute * 60L + second, nano);
  }

  private static void digits(char[] c, int at, int value, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      c[i] = (char) ('0' + value % 10);
      value /= 10;
    }
  }

  /** The decimal number in {@code width} characters at {@code at}, or -1 when one of them is not a digit. */
  private static int number(CharSequence text, int at, int width) {
    int value = 0;
    for (int i = at; i < at + width; i++) {
      char ch = text.charAt(i);
      if (ch < '0' || ch > '9') {
        return -1;
      }
      value = value * 10 + (ch - '0');
    }
    return value;
  }
}
