/// An authenticated request answered as if nobody had logged in: Spring Security sends a browser (302) to the
/// login page, an API client gets 401. Either way the credentials no longer work, which is what the admin has
/// to be told (a bare "HTTP 302" sends them looking at the network).
public enum LoginAnswer {
    /// Whether `status` means the server did not accept the login.
    public static func isLoginRefused(_ status: Int) -> Bool { [301, 302, 303, 307, 308, 401].contains(status) }

    /// The words for it: what the server did, then the likely cause. (The redirect's target is server text
    /// and is not shown.)
    public static func explain(status: Int) -> String {
        let what = status == 401 ? "HTTP 401 (not logged in)" : "HTTP \(status) (a redirect, as to a login page)"
        return "\(what): the login expired or the password changed"
    }

    public static let hint = "check USER and PASS (or PASS_FILE) of this server against the server's admin account; "
        + "nothing more is deleted until a run logs in again"
}
