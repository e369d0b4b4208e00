import Foundation
import MTCore
import MTTestSupport

/// One lab key in every format a lab's tools produce, made with the openssl command line at test time.
struct DecryptKeyFiles {
    let dir: TempDir
    let pkcs1: String
    let pkcs8: String
    let der: String
    let encryptedPKCS8: String
    let encryptedPKCS1: String
    let publicKey: RSAPublicKey
    static let passphrase = "corr3ct horse ✓"

    init(_ dir: TempDir, name: String = "lab") throws {
        self.dir = dir
        pkcs1 = dir.file("\(name)-pkcs1.pem")
        pkcs8 = dir.file("\(name)-pkcs8.pem")
        der = dir.file("\(name).der")
        encryptedPKCS8 = dir.file("\(name)-enc8.pem")
        encryptedPKCS1 = dir.file("\(name)-enc1.pem")
        let pub = dir.file("\(name).pub.pem")
        try TestKeys.openssl(["genrsa", "-traditional", "-out", pkcs1, "2048"])
        try TestKeys.openssl(["pkcs8", "-topk8", "-nocrypt", "-in", pkcs1, "-out", pkcs8])
        try TestKeys.openssl(["rsa", "-in", pkcs1, "-outform", "DER", "-out", der])
        try TestKeys.openssl(["pkcs8", "-topk8", "-in", pkcs1, "-out", encryptedPKCS8, "-passout", "pass:\(Self.passphrase)"])
        try TestKeys.openssl(["rsa", "-in", pkcs1, "-aes256", "-traditional", "-out", encryptedPKCS1, "-passout", "pass:\(Self.passphrase)"])
        try TestKeys.openssl(["rsa", "-in", pkcs1, "-pubout", "-out", pub])
        for f in [pkcs1, pkcs8, der, encryptedPKCS8, encryptedPKCS1] { chmod(f, 0o600) }
        publicKey = try RSAPublicKey.parse(pem: FileSystem.read(pub), source: pub)
    }

    func ring(_ paths: String...) throws -> KeyRing {
        try KeyRing.load(paths: paths, environment: ["MT_KEY_PASSPHRASE": Self.passphrase], allowReadable: false)
    }
}

/// Values that broke the original tool: accents, CJK, emoji, CSV specials, newlines.
let hardTexts = [
    "Je me sens déjà mieux, merci ! À bientôt.",
    "Perché è così difficile? Però ci proverò.",
    "我今天感觉很焦虑，但是会好的。",
    "😀👍🏽 family: 👨‍👩‍👧‍👦",
    "commas, \"quotes\", and\nnew lines\r\nin one value",
    "",
    " leading and trailing spaces ",
]
