// trap-swift: a Swift guest whose runtime checks fail, for the fault line
// that names a Swift trap and its function.
//
//   trap-swift index     an array index out of range
//   trap-swift overflow  an integer addition that overflows
//   trap-swift unwrap    nil unwrapped with !
//
// Each ends in a `ud2` in the function that made the check: the tender
// says "guest fault: SIGILL ... in <that function> (ud2: a failed runtime
// check in Swift ...)" and the status is 132.

import NablaGuest

@inline(never)
func element(_ values: [Int], at index: Int) -> Int {
    values[index]
}

@inline(never)
func sum(_ a: Int, _ b: Int) -> Int {
    a + b
}

@inline(never)
func unwrapped(_ value: Int?) -> Int {
    value!
}

@main
struct TrapSwift {
    static func main() {
        let arguments = CommandLine.arguments
        let mode = arguments.count > 1 ? arguments[1] : ""
        let count = arguments.count  // not a constant the optimiser could fold
        if mode == "index" {
            print("element: \(element([1, 2, 3], at: count + 5))")
        } else if mode == "overflow" {
            print("sum: \(sum(Int.max - 1, count))")
        } else if mode == "unwrap" {
            print("value: \(unwrapped(count > 100 ? 1 : nil))")
        } else {
            print("usage: trap-swift index|overflow|unwrap")
        }
    }
}
