import ImageStore
import IntermodalCore
import Testing

/// The proxy choice from an environment dictionary: pure, so the process environment never matters.
@Suite("Registry proxy from the environment")
struct RegistryProxyTests {
    func choose(_ url: (scheme: String, host: String, port: Int), _ env: [String: String]) throws -> RegistryProxy? {
        try RegistryProxy.choose(scheme: url.scheme, host: url.host, port: url.port, environment: env)
    }
    let hub = (scheme: "https", host: "registry-1.docker.io", port: 443)
    let plain = (scheme: "http", host: "127.0.0.1", port: 5000)

    @Test func noVariablesMeansDirect() throws {
        #expect(try choose(hub, [:]) == nil)
        #expect(try choose(hub, ["https_proxy": "", "HTTPS_PROXY": "  "]) == nil, "empty counts as unset")
        #expect(try choose(hub, ["PATH": "/bin", "ftp_proxy": "http://p:1"]) == nil)
    }

    @Test func schemePicksTheVariable() throws {
        let env = ["https_proxy": "http://secure:3128", "http_proxy": "http://plain:8080"]
        #expect(try choose(hub, env) == RegistryProxy(host: "secure", port: 3128, variable: "https_proxy"))
        #expect(try choose(plain, env) == RegistryProxy(host: "plain", port: 8080, variable: "http_proxy"))
        // http_proxy never serves https, nor https_proxy http.
        #expect(try choose(hub, ["http_proxy": "http://plain:8080"]) == nil)
        #expect(try choose(plain, ["https_proxy": "http://secure:3128"]) == nil)
    }

    @Test func lowerCaseWinsAndAllProxyIsTheFallback() throws {
        #expect(try choose(hub, ["HTTPS_PROXY": "upper:1", "https_proxy": "lower:2"])?.host == "lower")
        #expect(try choose(hub, ["HTTPS_PROXY": "upper:1"])?.variable == "HTTPS_PROXY")
        #expect(try choose(hub, ["all_proxy": "all:3"]) == RegistryProxy(host: "all", port: 3, variable: "all_proxy"))
        #expect(try choose(plain, ["ALL_PROXY": "ALL:4"])?.variable == "ALL_PROXY")
        #expect(try choose(hub, ["ALL_PROXY": "ALL:4", "all_proxy": "all:3"])?.host == "all")
        // The scheme's own variable, in either case, before all_proxy in either case.
        #expect(try choose(hub, ["all_proxy": "all:3", "HTTPS_PROXY": "upper:1"])?.host == "upper")
    }

    @Test func proxyURLForms() throws {
        func parse(_ v: String) throws -> RegistryProxy { try RegistryProxy.parse(v, variable: "http_proxy") }
        #expect(try parse("http://proxy.corp:3128") == RegistryProxy(host: "proxy.corp", port: 3128, variable: "http_proxy"))
        #expect(try parse("proxy.corp:3128") == RegistryProxy(host: "proxy.corp", port: 3128, variable: "http_proxy"))
        #expect(try parse("HTTP://proxy.corp:3128/") == RegistryProxy(host: "proxy.corp", port: 3128, variable: "http_proxy"))
        #expect(try parse("http://proxy.corp").port == 80, "no port: what http:// means")
        #expect(try parse("http://[fd00::1]:3128") == RegistryProxy(host: "fd00::1", port: 3128, variable: "http_proxy"))
        let auth = try parse("http://alice:p%40ss%3Aw@proxy.corp:3128")
        #expect(auth.username == "alice" && auth.password == "p@ss:w" && auth.host == "proxy.corp")
        let userOnly = try parse("bob@10.0.0.1:8080")
        #expect(userOnly.username == "bob" && userOnly.password == "" && userOnly.host == "10.0.0.1")
        #expect(auth.description == "proxy.corp:3128", "no credentials in what is logged")
    }

    @Test(arguments: [
        ("https://proxy.corp:3128", "https:// proxies"),
        ("socks5://proxy.corp:1080", "unsupported proxy scheme 'socks5://'"),
        ("http://proxy.corp:port", "invalid proxy port 'port'"),
        ("http://proxy.corp:70000", "invalid proxy port"),
        ("http://:3128", "no proxy host"),
        ("http://proxy.corp:3128/some/path", "no path"),
        ("http://pro xy:3128", "invalid proxy host"),
        ("http://[::1:3128", "unclosed"),
    ])
    func malformedProxiesAreClearErrors(value: String, why: String) throws {
        let error = #expect(throws: IntermodalError.self) {
            _ = try RegistryProxy.choose(scheme: "https", host: "r.example", port: 443, environment: ["HTTPS_PROXY": value])
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("HTTPS_PROXY='\(value)': ") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(why) == true, "\(error?.message ?? "")")
    }

    @Test func errorsDoNotLeakThePassword() throws {
        let error = #expect(throws: IntermodalError.self) {
            _ = try RegistryProxy.parse("https://alice:hunter2@proxy:3128", variable: "https_proxy")
        }
        #expect(error?.message.hasPrefix("https_proxy='https://alice:***@proxy:3128'") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test func noProxyBypasses() throws {
        let env = ["https_proxy": "http://p:3128", "http_proxy": "http://p:3128"]
        func direct(_ noProxy: String, _ host: String, _ port: Int = 443, scheme: String = "https", key: String = "no_proxy") throws -> Bool {
            var e = env
            e[key] = noProxy
            return try RegistryProxy.choose(scheme: scheme, host: host, port: port, environment: e) == nil
        }
        // Domains: the name and everything under it, whether written plain, with "." or "*.".
        for entry in ["example.com", ".example.com", "*.example.com", "EXAMPLE.COM."] {
            #expect(try direct(entry, "example.com"), "\(entry)")
            #expect(try direct(entry, "registry.example.com"), "\(entry)")
            #expect(try direct(entry, "Registry.Example.Com."), "\(entry)")
            #expect(try !direct(entry, "notexample.com"), "\(entry): a suffix is not a subdomain")
            #expect(try !direct(entry, "example.com.evil"), "\(entry)")
        }
        #expect(try direct("*", "anything.at.all"))
        #expect(try direct(" other.org , example.com ", "example.com"), "list with spaces")
        #expect(try direct("other.org,,example.com", "x.example.com"), "empty entries ignored")
        #expect(try !direct("other.org", "example.com"))
        // Ports.
        #expect(try direct("example.com:443", "example.com"))
        #expect(try !direct("example.com:5000", "example.com"))
        #expect(try direct("127.0.0.1:5000", "127.0.0.1", 5000, scheme: "http"))
        #expect(try !direct("127.0.0.1:5000", "127.0.0.1", 5001, scheme: "http"))
        // IP literals and ranges: exact, no resolution, no prefix matching.
        #expect(try direct("10.1.2.3", "10.1.2.3"))
        #expect(try !direct("10.1.2.3", "10.1.2.30"))
        #expect(try !direct("1.2.3", "10.1.2.3"), "an address is not a domain suffix")
        #expect(try direct("10.0.0.0/8", "10.200.3.4"))
        #expect(try !direct("10.0.0.0/8", "11.0.0.1"))
        #expect(try direct("192.168.1.0/24:8443", "192.168.1.9", 8443))
        #expect(try direct("::1", "::1"))
        #expect(try direct("[::1]", "[::1]"))
        #expect(try direct("[fd00::5]:5000", "fd00::5", 5000, scheme: "http"))
        #expect(try !direct("[fd00::5]:5000", "fd00::5", 443))
        // NO_PROXY too; lower-case wins.
        #expect(try direct("example.com", "example.com", key: "NO_PROXY"))
        var both = env
        both["no_proxy"] = "other.org"
        both["NO_PROXY"] = "example.com"
        #expect(try RegistryProxy.choose(scheme: "https", host: "example.com", port: 443, environment: both) != nil)
    }

    @Test func loopbackIsNotBypassedImplicitly() throws {
        // As curl: a local proxy can reach loopback; whoever wants it direct lists it in no_proxy.
        let env = ["http_proxy": "http://p:3128"]
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1"] {
            #expect(try RegistryProxy.choose(scheme: "http", host: host, port: 5000, environment: env) != nil, "\(host)")
        }
        var listed = env
        listed["no_proxy"] = "localhost,127.0.0.0/8,::1"
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] {
            #expect(try RegistryProxy.choose(scheme: "http", host: host, port: 5000, environment: listed) == nil, "\(host)")
        }
    }

    @Test func aMalformedVariableFailsTheClientsFirstRequest() async throws {
        // The client reads only the environment it is given; the error is thrown before any connection.
        let client = RegistryClient(registry: "registry.invalid", environment: ["https_proxy": "https://proxy.invalid:3128"])
        let error = await #expect(throws: IntermodalError.self) { _ = try await client.catalog() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("https_proxy='https://proxy.invalid:3128'") == true, "\(error?.message ?? "")")
        try await client.shutdown()
    }
}
