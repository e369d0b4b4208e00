import Foundation
import Logging
import MTCore
import MTTestSupport
import Testing

@Suite struct LogTests {
    func server(_ dir: TempDir, alert: AlertConfig? = nil) -> ServerConfig {
        ServerConfig(name: "lab", ready: true, deleteMode: false, apiBase: "https://h/api", user: "u", password: Secret("pw"),
                     passwordSource: nil, privateFiles: [], dateFormat: "%b_%d_%Y", timeFormat: "%H_%M_%S",
                     path: dir.path + "/fresh/data", alert: alert, connectTimeout: 10, timeout: 60, lowSpeedTime: 30,
                     concurrency: 4, retries: 3, caFile: nil, allowHTTP: false, catalogue: nil, configFile: "t.yaml")
    }

    @Test func fourLogFilesAppearUnderAFreshPathWithLevelsSplit() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let s = server(dir)
        let run = try RunLogging(command: "export", server: s, verbosity: .quiet, console: Output(fd: open("/dev/null", O_WRONLY)),
                                 environment: [:])
        run.logger(scale: "OA").debug("d-line")
        run.logger(scale: "OA").info("i-line")
        run.logger.warning("w-line")
        run.logger.critical("c-line")
        let logs = s.logsDirectory
        func read(_ f: String) throws -> String { try FileSystem.readString(logs + "/" + f) }
        #expect(try read("DEBUG.log").contains("d-line"))
        #expect(try !read("Daily.log").contains("d-line"))
        #expect(try read("Daily.log").contains("i-line"))
        #expect(try !read("error.log").contains("i-line"))
        #expect(try read("error.log").contains("w-line"))
        #expect(try read("break_down.log").contains("c-line"))
        #expect(try !read("break_down.log").contains("w-line"))
        let line = try read("DEBUG.log").split(separator: "\n").first { $0.contains("i-line") }!
        #expect(line.contains(" INFO ") && line.contains(" export lab OA i-line"))
    }

    @Test func filesRotateAtLocalMidnightWithDateSuffixAndRetention() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let day1 = Date(timeIntervalSince1970: 1_764_331_200) // 2025-11-28 12:00 UTC
        let files = try LogFiles(directory: dir.path, now: day1)
        files.write("first\n", level: .info, now: day1)
        let day2 = day1.addingTimeInterval(86_400)
        files.write("second\n", level: .info, now: day2)
        let suffix = LocalTime.day(day1)
        #expect(try FileSystem.readString(dir.file("Daily.log.\(suffix)")) == "first\n")
        #expect(try FileSystem.readString(dir.file("Daily.log")) == "second\n")
        // Old rotated files beyond 366 days are removed when a log opens.
        _ = try dir.write("Daily.log.2000-01-01", "ancient\n")
        _ = try LogFiles(directory: dir.path, now: day2)
        #expect(!FileSystem.exists(dir.file("Daily.log.2000-01-01")))
        #expect(FileSystem.exists(dir.file("Daily.log.\(suffix)")))
    }

    @Test func staleFileRotatesWhenAShortRunOpensIt() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = try dir.write("DEBUG.log", "yesterday\n")
        var times = [timespec(tv_sec: 1_764_331_200, tv_nsec: 0), timespec(tv_sec: 1_764_331_200, tv_nsec: 0)]
        utimensat(AT_FDCWD, p, &times, 0)
        let later = Date(timeIntervalSince1970: 1_764_331_200 + 3 * 86_400)
        let files = try LogFiles(directory: dir.path, now: later)
        files.write("today\n", level: .debug, now: later)
        #expect(try FileSystem.readString(dir.file("DEBUG.log.\(LocalTime.day(Date(timeIntervalSince1970: 1_764_331_200)))")) == "yesterday\n")
        #expect(try FileSystem.readString(p) == "today\n")
    }

    @Test func criticalEventsOfARunMakeExactlyOneMail() throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let dir = try TempDir()
        defer { dir.remove() }
        let alert = AlertConfig(to: ["lab@example.edu"], from: "mt@example.edu", smtpURL: sink.url, user: "u",
                                password: Secret("smtp-pw"), caFile: nil)
        let run = try RunLogging(command: "export", server: server(dir, alert: alert), verbosity: .quiet,
                                 console: Output(fd: open("/dev/null", O_WRONLY)), environment: [:])
        run.logger(scale: "OA").critical("fetch failed: HTTP 500")
        run.logger(scale: "QOL").critical("délai dépassé 中文")
        #expect(run.sendAlerts(subject: "mt export: 2 critical events"))
        let mails = sink.messages()
        #expect(mails.count == 1)
        #expect(mails[0].contains("fetch failed: HTTP 500"))
        #expect(mails[0].contains("délai dépassé 中文"))
        #expect(mails[0].contains("Subject: mt export: 2 critical events"))
        #expect(!mails[0].contains("smtp-pw"))
    }

    @Test func failedMailIsLoggedNotThrown() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        // A port nothing listens on: the mail fails, the run goes on.
        let alert = AlertConfig(to: ["x@example.edu"], from: "mt@example.edu", smtpURL: "smtp://127.0.0.1:9", user: nil,
                                password: nil, caFile: nil)
        let s = server(dir, alert: alert)
        let run = try RunLogging(command: "export", server: s, verbosity: .quiet, console: Output(fd: open("/dev/null", O_WRONLY)),
                                 environment: [:])
        run.logger.critical("boom")
        #expect(run.sendAlerts(subject: "x") == false)
        #expect(try FileSystem.readString(s.logsDirectory + "/error.log").contains("alert mail could not be sent"))
    }

    @Test func noCriticalNoMail() throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let dir = try TempDir()
        defer { dir.remove() }
        let alert = AlertConfig(to: ["x@example.edu"], from: "mt@example.edu", smtpURL: sink.url, user: nil, password: nil, caFile: nil)
        let run = try RunLogging(command: "export", server: server(dir, alert: alert), verbosity: .quiet,
                                 console: Output(fd: open("/dev/null", O_WRONLY)), environment: [:])
        run.logger.error("an error, not critical")
        #expect(run.sendAlerts(subject: "x") == false)
        #expect(sink.messages().isEmpty)
    }
}

@Suite struct ConsoleTests {
    @Test func consoleUnderCronShowsWarningsOnlyEvenInsideAMultiplexer() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("console.txt")
        let fd = open(path, O_WRONLY | O_CREAT, 0o600) // not a terminal, like cron's stderr
        let console = Output(fd: fd, capacity: 0)
        let s = ServerConfig(name: "lab", apiBase: "https://h/api", path: dir.path + "/data")
        let run = try RunLogging(command: "export", server: s, verbosity: .normal, console: console, environment: [:])
        run.logger.debug("debug-line")
        run.logger.info("info-line")
        run.logger.warning("warning-line")
        close(fd)
        let text = try FileSystem.readString(path)
        #expect(!text.contains("debug-line"))
        #expect(!text.contains("info-line"))
        #expect(text.contains("warning-line"))
    }
}
