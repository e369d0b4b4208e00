import Foundation
import MTCore
@testable import MTCustody
import Testing

@Suite struct CustodyUnitTests {
    func scale(_ dwell: [Double]) -> CustodyReport.Scale {
        CustodyReport.Scale(name: "OA", deleteable: true, entries: dwell.count, deleted: dwell.count, dwell: dwell.sorted(),
                            stillOnServer: 0, beyondThreshold: [])
    }

    @Test func percentilesAreNearestRank() {
        let s = scale((1...100).map(Double.init))
        #expect(s.percentile(0.5) == 50 && s.percentile(0.95) == 95 && s.percentile(0.99) == 99)
        let one = scale([7])
        #expect(one.percentile(0.5) == 7 && one.percentile(0.99) == 7)
        #expect(scale([]).percentile(0.5) == nil)
        let three = scale([30, 10, 20])
        #expect(three.percentile(0.5) == 20 && three.percentile(0.95) == 30)
    }

    @Test func thePageEscapesWhatItQuotes() {
        #expect(HTMLText.escape("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#39;")
    }
}
