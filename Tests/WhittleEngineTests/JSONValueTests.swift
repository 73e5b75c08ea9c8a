import Testing
@testable import WhittleEngine

@Suite struct JSONValueTests {
    static func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func testJSONValue_parsesNestedValuesInOrder() throws {
        let value = try Self.parse(#" {"b": [1, -2.5e3, true, null], "a": {"x": "y\n\u00e9\ud83d\ude00"}} "#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a"])
        #expect(value["b"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .null]))
        #expect(value["a"]?["x"]?.stringValue == "y\né😀")
        #expect(value["b"].flatMap { if case .array(let items) = $0 { items[1].doubleValue } else { nil } } == -2500)
    }

    @Test func testJSONValue_rejectsDuplicateKeysAtAnyDepth() {
        #expect(throws: WhittleError.self) { try Self.parse(#"{"a": 1, "a": 2}"#) }
        #expect(throws: WhittleError.self) { try Self.parse(#"{"o": {"k": 1, "k": 1}}"#) }
    }

    @Test func testJSONValue_rejectsMalformedText() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "\"\u{01}\"", "\"\\ud800\"", "nul", "1 2", "{'a': 1}"] {
            #expect(throws: WhittleError.self, "\(text.debugDescription)") { try Self.parse(text) }
        }
    }

    @Test func testJSONValue_rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: WhittleError.self) { try Self.parse(deep) }
    }

    @Test func testJSONValue_intValueOnlyForExactIntegers() throws {
        #expect(JSONValue.number("12").intValue == 12)
        #expect(JSONValue.number("1.0").intValue == nil)
        #expect(JSONValue.number("1e2").intValue == nil)
        #expect(JSONValue.number("99999999999999999999").intValue == nil)
    }

    @Test func testJSONValue_serializationRoundTrips() throws {
        let value = JSONValue.object([
            "text": .string("quote \" slash \\ tab \t bell \u{07}"),
            "list": .array([.int(-3), .double(1e-5), .bool(false), .null]),
            "empty": .object([JSONValue.Member]()),
        ])
        for indent in [0, 2] {
            #expect(try JSONValue.parse(Array(value.serialized(indent: indent).utf8)) == value)
        }
        #expect(value.serialized() == #"{"empty":{},"list":[-3,1e-05,false,null],"text":"quote \" slash \\ tab \t bell \u0007"}"#)
    }
}
