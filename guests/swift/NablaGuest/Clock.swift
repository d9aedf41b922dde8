// Clock.swift: the two clocks and sleeping, on the walltime and poll
// hypercalls.

import NablaLibOS

public enum Clock {
    /// Nanoseconds since an arbitrary point; never goes back (the host's
    /// CLOCK_MONOTONIC).
    public static var monotonicNanoseconds: UInt64 { nabla_clock_monotonic() }

    /// Nanoseconds since the Unix epoch (the host's CLOCK_REALTIME).
    public static var wallNanoseconds: UInt64 { nabla_clock_wall() }

    /// Seconds since the Unix epoch.
    public static var wallSeconds: UInt64 { wallNanoseconds / 1_000_000_000 }

    /// Runs `body` and returns its result and how long it took, in nanoseconds.
    public static func measure<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> (result: T, nanoseconds: UInt64) {
        let start = monotonicNanoseconds
        let result = try body()
        return (result, monotonicNanoseconds - start)
    }
}

/// Waits at least `nanoseconds` (the guest has one thread: nothing else runs).
public func sleep(nanoseconds: UInt64) {
    nabla_sleep_ns(nanoseconds)
}

/// Waits at least `milliseconds`.
public func sleep(milliseconds: UInt64) {
    nabla_sleep_ns(milliseconds &* 1_000_000)
}
