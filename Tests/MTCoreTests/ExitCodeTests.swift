import Testing
@testable import MTCore

@Suite struct ExitCodeTests {
    @Test func worstRanksBySeverityNotByNumber() {
        // 75 (another run holds the lock) must not hide a full disk or a bug in the same run.
        #expect(ExitCode.worst([.tempFail, .ioError]) == .ioError)
        #expect(ExitCode.worst([.tempFail, .software]) == .software)
        #expect(ExitCode.worst([.config, .dataError]) == .dataError)
        #expect(ExitCode.worst([.problems, .tempFail]) == .tempFail)
        #expect(ExitCode.worst([.ok, .problems]) == .problems)
        #expect(ExitCode.worst([]) == .ok)
    }

    @Test func everyCodeHasItsOwnRank() {
        let ranks = ExitCode.allCases.map(\.severity)
        #expect(Set(ranks).count == ranks.count)
        #expect(ExitCode.allCases.min() == .ok)
        #expect(ExitCode.allCases.max() == .software)
    }
}
