package protocol

import "testing"

// The scanner hands out the decoder's kinds as token kinds.
func TestTokenKindsAreTheDecodersKinds(t *testing.T) {
	pairs := map[kind]TokenKind{kNil: TokenNil, kUndefined: TokenUndefined, kBool: TokenBool, kInt: TokenInt, kUint: TokenUint,
		kFloat: TokenFloat, kStr: TokenString, kBin: TokenBinary, kArray: TokenArray, kMap: TokenMap, kExt: TokenExt}
	for k, tk := range pairs {
		if TokenKind(k) != tk {
			t.Errorf("decoder kind %d is token kind %d, want %d", k, TokenKind(k), tk)
		}
	}
}
