#include "textflag.h"

// func lines(p unsafe.Pointer, n uintptr)
TEXT ·lines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX // end
	ANDQ $~63, AX // the line p is in
loop:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, CX
	JB   loop
	RET

// func linesW(p unsafe.Pointer, n uintptr)
TEXT ·linesW(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX // end
	ANDQ $~63, AX // the line p is in
loopw:
	// PREFETCHW (AX): 0F 0D /1, which the Go assembler does not name.
	BYTE $0x0F; BYTE $0x0D; BYTE $0x08
	ADDQ $64, AX
	CMPQ AX, CX
	JB   loopw
	RET
