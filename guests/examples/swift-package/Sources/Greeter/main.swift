// Greets each argument in capitals and says how long that took.
import NablaGuest

struct Greeting {
    let name: String
    var text: String { "Hello, \(name.uppercased())!" }
}

let names = CommandLine.arguments.count < 2 ? ["world"] : Array(CommandLine.arguments.dropFirst())
let (greetings, nanoseconds) = Clock.measure { names.map { Greeting(name: $0).text } }
for greeting in greetings { print(greeting) }
print("\(greetings.count) greetings in \(nanoseconds / 1000) µs")
