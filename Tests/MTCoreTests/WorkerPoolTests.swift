import Foundation
import MTCore
import Testing

@Suite struct WorkerPoolTests {
    /// Results come back in job order however the jobs finish (the early jobs are the slow ones here).
    @Test(arguments: [1, 2, 3, 8])
    func resultsInJobOrder(_ workers: Int) {
        let out = WorkerPool(workers: workers).map(40) { i in
            if i < 4 { Thread.sleep(forTimeInterval: 0.02) }
            return i * i
        }
        #expect(out == (0..<40).map { $0 * $0 })
    }

    @Test func noJobsNoResults() {
        #expect(WorkerPool().map(0) { $0 }.isEmpty)
        #expect(WorkerPool(workers: 0).workers == 1)
    }

    /// With more than one worker, jobs do run at the same time (each waits until a second one has started).
    @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount > 1, "one core runs jobs one after another"))
    func jobsRunConcurrently() {
        let started = NSCondition()
        nonisolated(unsafe) var running = 0 // guarded by `started`
        let met = WorkerPool(workers: 2).map(2) { _ -> Bool in
            started.lock(); defer { started.unlock() }
            running += 1
            started.broadcast()
            let deadline = Date().addingTimeInterval(10)
            while running < 2 { if !started.wait(until: deadline) { return false } }
            return true
        }
        #expect(met == [true, true])
    }
}
