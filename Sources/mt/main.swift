import Foundation
import MTBenchmark
import MTCore
import MTCustody
import MTDecrypt
import MTExport
import MTRecover
import MTScales
import MTStats
import MTStatus
import MTVerify
import MTWithdraw

/// The command table: every `mt` subcommand, in the order `mt help` lists them.
let commands: [any Command.Type] = [
    ExportCommand.self,
    DecryptCommand.self,
    RecoverCommand.self,
    BenchmarkCommand.self,
    VerifyCommand.self,
    ScalesCommand.self,
    StatsCommand.self,
    StatusCommand.self,
    CustodyCommand.self,
    WithdrawCommand.self,
    ConfigCommand.self,
]

// A closed pipe becomes a write error, never a kill in the middle of an export; Output.finish decides at the end.
signal(SIGPIPE, SIG_IGN)
let stdout = Output.standardOutput()
let stderr = Output.standardError()
let code = Dispatcher(commands: commands, stdout: stdout, stderr: stderr)
    .run(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
exit(Output.finish(code, stdout: stdout, stderr: stderr).rawValue)
