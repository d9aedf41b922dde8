// BPF.swift: a classic-BPF interpreter for seccomp programs, so the filter
// the tender compiles can be checked rule by rule at its boundaries without
// root and without loading it (as gVisor tests its filters).
//
// It runs a program over a `struct seccomp_data` (nr, arch, instruction
// pointer, six arguments) the way the kernel's seccomp does: 32-bit
// accumulator and index register, 16 scratch words, loads only from the
// data, and a program that jumps out of bounds, divides by zero or reads
// past the data is an error here (the kernel refuses to load it).

import CNablaTender

/// The data a seccomp filter sees for one system call.
struct SeccompData {
    var number: Int32
    var arch: UInt32 = SeccompData.x86_64
    var instructionPointer: UInt64 = 0
    var arguments: [UInt64] = [0, 0, 0, 0, 0, 0]

    static let x86_64: UInt32 = 0xc000_003e   // AUDIT_ARCH_X86_64
    static let i386: UInt32 = 0x4000_0003     // AUDIT_ARCH_I386
    /// The bit x32 system call numbers carry.
    static let x32Bit: Int32 = 0x4000_0000

    init(_ number: Int32, _ arguments: [UInt64] = [], arch: UInt32 = SeccompData.x86_64) {
        self.number = number
        self.arch = arch
        self.arguments = arguments + Array(repeating: 0, count: max(0, 6 - arguments.count))
    }

    /// The 32-bit word at byte `offset`, as the kernel lays the struct out
    /// (little-endian).
    func word(at offset: UInt32) -> UInt32? {
        switch offset {
        case 0: return UInt32(bitPattern: number)
        case 4: return arch
        case 8: return UInt32(truncatingIfNeeded: instructionPointer)
        case 12: return UInt32(truncatingIfNeeded: instructionPointer >> 32)
        case 16..<64 where offset % 4 == 0:
            let argument = arguments[Int(offset - 16) / 8]
            return offset % 8 == 0 ? UInt32(truncatingIfNeeded: argument) : UInt32(truncatingIfNeeded: argument >> 32)
        default: return nil
        }
    }
}

/// What a filter decided, from the top 16 bits of its return value.
enum SeccompAction: Equatable, CustomStringConvertible {
    case allow, trap, kill, errno(UInt16), other(UInt32)

    init(returnValue value: UInt32) {
        switch value & 0xffff_0000 {
        case 0x7fff_0000: self = .allow
        case 0x0003_0000: self = .trap
        case 0x0000_0000, 0x8000_0000: self = .kill
        case 0x0005_0000: self = .errno(UInt16(value & 0xffff))
        default: self = .other(value)
        }
    }

    var description: String {
        switch self {
        case .allow: "allow"
        case .trap: "trap"
        case .kill: "kill"
        case .errno(let errno): "errno \(errno)"
        case .other(let value): "action 0x\(String(value, radix: 16))"
        }
    }
}

struct BPFError: Error, CustomStringConvertible {
    var description: String
}

/// Runs `program` over `data`; throws if the program is malformed.
func runSeccompFilter(_ program: [sock_filter], on data: SeccompData) throws -> SeccompAction {
    var a: UInt32 = 0, x: UInt32 = 0
    var scratch = [UInt32](repeating: 0, count: 16)
    var pc = 0
    var steps = 0
    while pc < program.count {
        steps += 1
        guard steps <= 100_000 else { throw BPFError(description: "the program does not end") }
        let instruction = program[pc]
        let code = instruction.code, k = instruction.k
        pc += 1
        switch code & 0x07 {
        case 0x00, 0x01:  // BPF_LD, BPF_LDX
            let value: UInt32
            switch code & 0xe0 {
            case 0x00: value = k  // BPF_IMM
            case 0x20:  // BPF_ABS
                guard code & 0x18 == 0x00, let word = data.word(at: k) else {
                    throw BPFError(description: "load of \(k) at \(pc - 1): not a 32-bit word of seccomp_data")
                }
                value = word
            case 0x60:  // BPF_MEM
                guard k < 16 else { throw BPFError(description: "scratch word \(k) at \(pc - 1)") }
                value = scratch[Int(k)]
            case 0x80: value = 64  // BPF_LEN: sizeof(struct seccomp_data)
            default: throw BPFError(description: "load mode 0x\(String(code, radix: 16)) at \(pc - 1)")
            }
            if code & 0x07 == 0x00 { a = value } else { x = value }
        case 0x02, 0x03:  // BPF_ST, BPF_STX
            guard k < 16 else { throw BPFError(description: "scratch word \(k) at \(pc - 1)") }
            scratch[Int(k)] = code & 0x07 == 0x02 ? a : x
        case 0x04:  // BPF_ALU
            let operand = code & 0x08 != 0 ? x : k
            switch code & 0xf0 {
            case 0x00: a = a &+ operand
            case 0x10: a = a &- operand
            case 0x20: a = a &* operand
            case 0x30:
                guard operand != 0 else { throw BPFError(description: "division by zero at \(pc - 1)") }
                a /= operand
            case 0x40: a |= operand
            case 0x50: a &= operand
            case 0x60: a = operand >= 32 ? 0 : a << operand
            case 0x70: a = operand >= 32 ? 0 : a >> operand
            case 0x80: a = 0 &- a
            case 0x90:
                guard operand != 0 else { throw BPFError(description: "modulo by zero at \(pc - 1)") }
                a %= operand
            case 0xa0: a ^= operand
            default: throw BPFError(description: "ALU op 0x\(String(code, radix: 16)) at \(pc - 1)")
            }
        case 0x05:  // BPF_JMP
            if code & 0xf0 == 0x00 {  // BPF_JA
                pc += Int(k)
            } else {
                let operand = code & 0x08 != 0 ? x : k
                let taken: Bool
                switch code & 0xf0 {
                case 0x10: taken = a == operand
                case 0x20: taken = a > operand
                case 0x30: taken = a >= operand
                case 0x40: taken = a & operand != 0
                default: throw BPFError(description: "jump op 0x\(String(code, radix: 16)) at \(pc - 1)")
                }
                pc += Int(taken ? instruction.jt : instruction.jf)
            }
            guard pc < program.count else { throw BPFError(description: "jump past the end at \(pc)") }
        case 0x06:  // BPF_RET
            return SeccompAction(returnValue: code & 0x18 == 0x10 ? a : k)
        case 0x07:  // BPF_MISC
            if code & 0xf8 == 0x00 { x = a } else { a = x }  // TAX, TXA
        default:
            throw BPFError(description: "instruction class 0x\(String(code, radix: 16)) at \(pc - 1)")
        }
    }
    throw BPFError(description: "the program ran past its end")
}
