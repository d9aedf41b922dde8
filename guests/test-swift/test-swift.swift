// test-swift: the Swift test API and the Swift features guests rely on
// (structs, classes, arrays, dictionaries, strings with interpolation and
// Unicode case mapping, closures, generics, typed throws), with NablaGuest's
// arguments, clocks and sleeping. Prints TAP for nabla-test.

import NablaGuest

struct Point: Equatable, CustomStringConvertible {
    var x: Int, y: Int
    var description: String { "(\(x), \(y))" }
    static func + (a: Point, b: Point) -> Point { Point(x: a.x + b.x, y: a.y + b.y) }
}

final class Counter {
    private(set) var count = 0
    func increment(by step: Int = 1) { count += step }
}

enum ParseError: Error, Equatable {
    case empty
    case notANumber(String)
}

func parse(_ text: String) throws(ParseError) -> Int {
    guard !text.isEmpty else { throw .empty }
    guard let value = Int(text) else { throw .notANumber(text) }
    return value
}

func largest<T: Comparable>(_ values: [T]) -> T? {
    values.reduce(nil) { best, value in best.map { max($0, value) } ?? value }
}

@main
struct TestSwift {
    static func main() {
        test("structs") {
            let p = Point(x: 1, y: 2) + Point(x: 3, y: 4)
            expectEqual(p, Point(x: 4, y: 6))
            expect("\(p)" == "(4, 6)", "interpolated \(p)")
        }
        test("classes") {
            let counter = Counter()
            let alias = counter
            alias.increment()
            alias.increment(by: 2)
            expectEqual(counter.count, 3)
        }
        test("arrays and closures") {
            let squares = (1...5).map { $0 * $0 }
            expectEqual(squares.count, 5)
            expect(squares == [1, 4, 9, 16, 25])
            expectEqual(squares.filter { $0 % 2 == 1 }.reduce(0, +), 35)
            var sorted = [5, 3, 9, 1]
            sorted.sort(by: >)
            expect(sorted == [9, 5, 3, 1])
        }
        test("dictionaries") {
            var colours: [String: Int] = [:]
            for word in ["red", "green", "red", "blue", "red"] { colours[word, default: 0] += 1 }
            expectEqual(colours["red"] ?? 0, 3)
            expectEqual(colours.count, 3)
            expect(colours.keys.sorted() == ["blue", "green", "red"])
        }
        test("strings") {
            let name = "nabla"
            expect("\(name)-\(42)" == "nabla-42")
            expect(name.uppercased() == "NABLA")
            expect("straße".uppercased() == "STRASSE", "Unicode case mapping")
            expect("ÉCOLE".lowercased() == "école")
            expectEqual("héllo".count, 5)
            expect("a,b,,c".split(separator: ",").count == 3)
        }
        test("generics") {
            expectEqual(largest([3, 9, 2]) ?? 0, 9)
            expect(largest(["pear", "apple"]) == "pear")
            expect(largest([Int]()) == nil)
        }
        test("typed throws") {
            do throws(ParseError) {
                expectEqual(try parse("12"), 12)
                _ = try parse("x1")
                expect(false, "parse(\"x1\") did not throw")
            } catch {
                expect(error == .notANumber("x1"))
            }
            expect((try? parse("")) == nil)
        }
        test("arguments") {
            let arguments = CommandLine.arguments
            expect(arguments.first?.hasSuffix("test-swift.nabla") == true, "argv[0] is the image")
            expect(Array(arguments.dropFirst()) == ["alpha", "beta"], "arguments \(arguments.count)")
        }
        test("clocks and sleeping") {
            let (_, elapsed) = Clock.measure { sleep(milliseconds: 20) }
            expect(elapsed >= 20_000_000, "slept \(elapsed) ns")
            expect(Clock.wallSeconds > 1_600_000_000)
        }
        test("block device") { () throws(TestSkip) in
            guard let disk = try? BlockDevice(named: "disk") else { try skip("no disk attached") }
            expect(!disk.isReadOnly)
            do throws(NablaError) {
                let data = [UInt8](repeating: 0xAB, count: disk.sectorSize)
                try disk.write(at: 0, data)
                expect(try disk.read(at: 0, count: disk.sectorSize) == data)
                _ = try disk.read(at: 1, count: disk.sectorSize)
                expect(false, "a misaligned read succeeded")
            } catch {
                expect(error == .invalidArgument, "misaligned read: \(error)")
            }
        }
        Guest.exit(testsFinished())
    }
}
