# ILBuilder's fields and its emitting methods, declared here so that the
# translator stages (translate.pyx, specialize.pyx) call them as C functions
# on an IL builder they hold in a typed local; native/cil.pyx defines them.
cdef class ILBuilder:
    cdef public bytearray code
    cdef list _label_pos
    cdef list _fixups
    cdef list _signatures
    cdef dict _signature_index
    cdef list _token_fixups
    cdef list _thunk_fixups
    cdef list _local_types
    cdef public dict notes
    # RyuJIT compiles a method without optimizing it ("MinOpts") when one of
    # these passes its limit: IL instructions, references to locals and
    # arguments, basic blocks (counted in finish() as RyuJIT finds them)
    cdef public int instructions
    cdef public int variable_refs
    cdef list _block_ends
    cdef int _last_br_end           # where the last unconditional br ends
    cdef int _last_exit_end         # ... the last br or ret
    cdef int _last_mark             # where the last label was marked
    cdef int _marks                 # labels marked so far
    cdef set _targeted              # labels a branch was emitted to

    cdef bint _unreachable(self)
    cdef int _signature_slot(self, bytes signature) except -1
    cpdef int new_label(self) except -1
    cpdef mark(self, int label)
    cpdef op(self, str name)
    cpdef ldc_i4(self, int value)
    cpdef ldc_i8(self, value)
    cpdef ldc_r8(self, double value)
    cpdef ldc_ptr(self, value)
    cpdef ldloc(self, int index)
    cpdef ldloca(self, int index)
    cpdef stloc(self, int index)
    cpdef branch(self, str name, int label)
    cpdef calli(self, bytes signature)
