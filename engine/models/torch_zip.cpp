#include "models/torch_zip.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace gafx::models {
namespace {

const char* kFix = "give a state dict saved with torch.save (PyTorch >= 1.6), or a .safetensors file";

constexpr int kMaxDepth = 512;                 // nesting of containers we convert
constexpr uint64_t kMaxExpanded = 10'000'000;  // dict entries a flattening may visit (shared dicts count again)
constexpr size_t kMaxDims = 64;
constexpr uint64_t kMaxKeyBytes = 256ull << 20;  // dict keys copied into indexes, all dicts together
constexpr uint64_t kMaxNameBytes = 256ull << 20; // dotted state-dict names a flattening builds
constexpr uint64_t kMaxTensors = 1'000'000;      // entries of the flattened state dict

// ---------------------------------------------------------------------------------------------
// The values the unpickler builds. Containers have reference semantics (the memo shares them,
// SETITEMS and APPENDS mutate them), as in Python.

struct Value;
using Ptr = std::shared_ptr<Value>;

enum class Kind { None, Bool, Int, Float, Str, Bytes, List, Tuple, Dict, Global, Opaque, Storage, Tensor };

struct Value {
    explicit Value(Kind k) : kind(k) {}
    Kind kind;
    int64_t i = 0;            // Bool, Int
    double f = 0;             // Float
    std::string s;            // Str, Bytes; Global: "module.name"; Opaque: what it stands for
    std::vector<Ptr> items;   // List, Tuple; Dict: key, value, key, value, ... in insertion order
    std::unique_ptr<std::unordered_map<std::string, size_t>> index; // Dict: hashable key -> slot
    at::Tensor tensor;        // Tensor; Storage: the raw bytes (uint8)
    c10::ScalarType dtype = c10::ScalarType::Byte; // Storage: the element type it was saved as
};

std::string kind_name(Kind k) {
    switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int: return "an int";
    case Kind::Float: return "a float";
    case Kind::Str: return "a str";
    case Kind::Bytes: return "bytes";
    case Kind::List: return "a list";
    case Kind::Tuple: return "a tuple";
    case Kind::Dict: return "a dict";
    case Kind::Global: return "a class or function";
    case Kind::Opaque: return "an unsupported object";
    case Kind::Storage: return "a storage";
    case Kind::Tensor: return "a tensor";
    }
    return "a value";
}

// Python's dict identity for the keys that occur in practice (1 and True are one key, as there).
std::optional<std::string> hash_key(const Value& k) {
    switch (k.kind) {
    case Kind::Str: return "s" + k.s;
    case Kind::Bytes: return "b" + k.s;
    case Kind::Int:
    case Kind::Bool: return "i" + std::to_string(k.i);
    case Kind::Float:
        if (std::abs(k.f) < 9e18 && k.f == double(int64_t(k.f))) return "i" + std::to_string(int64_t(k.f));
        return "f" + std::to_string(k.f);
    case Kind::None: return std::string("n");
    default: return std::nullopt;
    }
}

std::optional<c10::ScalarType> dtype_named(std::string name) {
    // torch.FloatStorage (1.x and 2.x files), torch.cuda.FloatStorage (older files),
    // torch.storage.UntypedStorage (2.x, raw bytes), torch.float32 (dtype objects).
    for (const char* p : {"torch.", "cuda.", "storage."})
        if (name.compare(0, std::strlen(p), p) == 0) name = name.substr(std::strlen(p));
    using S = c10::ScalarType;
    static const std::map<std::string, S> m = {
        {"FloatStorage", S::Float},     {"DoubleStorage", S::Double}, {"HalfStorage", S::Half},
        {"BFloat16Storage", S::BFloat16}, {"LongStorage", S::Long},   {"IntStorage", S::Int},
        {"ShortStorage", S::Short},     {"CharStorage", S::Char},     {"ByteStorage", S::Byte},
        {"BoolStorage", S::Bool},       {"ComplexFloatStorage", S::ComplexFloat},
        {"ComplexDoubleStorage", S::ComplexDouble}, {"UntypedStorage", S::Byte},
        {"float32", S::Float},   {"float", S::Float},   {"float64", S::Double}, {"double", S::Double},
        {"float16", S::Half},    {"half", S::Half},     {"bfloat16", S::BFloat16},
        {"int64", S::Long},      {"long", S::Long},     {"int32", S::Int},      {"int", S::Int},
        {"int16", S::Short},     {"short", S::Short},   {"int8", S::Char},      {"uint8", S::Byte},
        {"bool", S::Bool},       {"complex64", S::ComplexFloat}, {"cfloat", S::ComplexFloat},
        {"complex128", S::ComplexDouble}, {"cdouble", S::ComplexDouble}};
    auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    return it->second;
}

// ---------------------------------------------------------------------------------------------

using StorageLoader = std::function<at::Tensor(const std::string& key)>; // the raw bytes, uint8

class Unpickler {
public:
    Unpickler(const char* data, size_t size, std::string path, StorageLoader load)
        : p_(data), n_(size), path_(std::move(path)), load_(std::move(load)) {}

    ~Unpickler() {
        // Break every link between containers first: a self-referencing list would leak and
        // a deeply nested one would overflow the stack in the recursive destructors.
        stack_.clear();
        memo_.clear();
        for (auto& c : containers_) {
            c->items.clear();
            c->index.reset();
        }
    }

    Ptr run() {
        for (;;) {
            const uint8_t op = u8();
            switch (op) {
            case 0x80: u8(); break;                        // PROTO
            case 0x95: take(8); break;                     // FRAME (protocol 4): frames are just bytes
            case '.':                                      // STOP
                return pop();
            case '(': marks_.push_back(stack_.size()); break; // MARK
            case '}': push(container(Kind::Dict)); break;  // EMPTY_DICT
            case ']': push(container(Kind::List)); break;  // EMPTY_LIST
            case 0x8f: push(container(Kind::List)); break; // EMPTY_SET (a list here)
            case ')': push(container(Kind::Tuple)); break; // EMPTY_TUPLE
            case 't': push(tuple(pop_mark())); break;      // TUPLE
            case 0x85: push(tuple(pop_n(1))); break;       // TUPLE1
            case 0x86: push(tuple(pop_n(2))); break;       // TUPLE2
            case 0x87: push(tuple(pop_n(3))); break;       // TUPLE3
            case 'l': {                                    // LIST
                auto l = container(Kind::List);
                l->items = pop_mark();
                push(l);
                break;
            }
            case 0x91: {                                   // FROZENSET (a list here)
                auto l = container(Kind::List);
                l->items = pop_mark();
                push(l);
                break;
            }
            case 'd': {                                    // DICT
                auto items = pop_mark();
                if (items.size() % 2) fail("DICT with an odd number of items");
                auto d = container(Kind::Dict);
                for (size_t k = 0; k < items.size(); k += 2) set_item(*d, items[k], items[k + 1]);
                push(d);
                break;
            }
            case 'a': {                                    // APPEND
                auto v = pop();
                append(top(), {v});
                break;
            }
            case 'e':                                      // APPENDS
            case 0x90: {                                   // ADDITEMS
                auto items = pop_mark();
                append(top(), items);
                break;
            }
            case 's': {                                    // SETITEM
                auto v = pop();
                auto k = pop();
                set_item(dict_on_top(), k, v);
                break;
            }
            case 'u': {                                    // SETITEMS
                auto items = pop_mark();
                if (items.size() % 2) fail("SETITEMS with an odd number of items");
                Value& d = dict_on_top();
                for (size_t k = 0; k < items.size(); k += 2) set_item(d, items[k], items[k + 1]);
                break;
            }
            case '0': pop(); break;                        // POP
            case '1': pop_mark(); break;                   // POP_MARK
            case '2': push(top()); break;                  // DUP
            case 'q': memo_[u8()] = top(); break;          // BINPUT
            case 'r': memo_[u32()] = top(); break;         // LONG_BINPUT
            case 0x94: {                                   // MEMOIZE
                const uint64_t id = memo_.size();
                memo_[id] = top();
                break;
            }
            case 'h': push(memo_get(u8())); break;         // BINGET
            case 'j': push(memo_get(u32())); break;        // LONG_BINGET
            case 'J': push(integer(int32_t(u32()))); break; // BININT
            case 'K': push(integer(u8())); break;          // BININT1
            case 'M': push(integer(u16())); break;         // BININT2
            case 0x8a: push(long_int(u8())); break;        // LONG1
            case 0x8b: {                                   // LONG4
                const int32_t len = int32_t(u32());
                if (len < 0) fail("LONG4 with a negative length");
                push(long_int(size_t(len)));
                break;
            }
            case 'G': {                                    // BINFLOAT: big-endian double
                const char* b = take(8);
                char le[8];
                for (int k = 0; k < 8; ++k) le[k] = b[7 - k];
                auto v = make(Kind::Float);
                std::memcpy(&v->f, le, 8);
                push(v);
                break;
            }
            case 'N': push(make(Kind::None)); break;       // NONE
            case 0x88: push(boolean(true)); break;         // NEWTRUE
            case 0x89: push(boolean(false)); break;        // NEWFALSE
            case 'X': push(text(Kind::Str, u32())); break; // BINUNICODE
            case 0x8c: push(text(Kind::Str, u8())); break; // SHORT_BINUNICODE
            case 0x8d: push(text(Kind::Str, u64())); break; // BINUNICODE8
            case 'U': push(text(Kind::Str, u8())); break;  // SHORT_BINSTRING (Python 2 str)
            case 'T': {                                    // BINSTRING
                const int32_t len = int32_t(u32());
                if (len < 0) fail("BINSTRING with a negative length");
                push(text(Kind::Str, uint64_t(len)));
                break;
            }
            case 'B': push(text(Kind::Bytes, u32())); break; // BINBYTES
            case 'C': push(text(Kind::Bytes, u8())); break;  // SHORT_BINBYTES
            case 0x8e:                                       // BINBYTES8
            case 0x96: push(text(Kind::Bytes, u64())); break; // BYTEARRAY8
            case 'c': {                                      // GLOBAL: "module\nname\n"
                std::string module = line();
                std::string name = line();
                push(global(module, name));
                break;
            }
            case 0x93: {                                     // STACK_GLOBAL
                auto name = pop();
                auto module = pop();
                if (module->kind != Kind::Str || name->kind != Kind::Str) fail("STACK_GLOBAL without two strings");
                push(global(module->s, name->s));
                break;
            }
            case 'R': {                                      // REDUCE: callable(*args)
                auto args = pop();
                auto fn = pop();
                if (args->kind != Kind::Tuple) fail("REDUCE with arguments that are not a tuple");
                push(call(fn, args->items, 0));
                break;
            }
            case 'b': {                                      // BUILD: object.__setstate__(state)
                pop();                                       // the state: attributes, never items
                top();
                break;
            }
            case 0x81: {                                     // NEWOBJ: cls.__new__(cls, *args)
                pop();
                auto cls = pop();
                push(new_object(cls));
                break;
            }
            case 0x92: {                                     // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
                pop();
                pop();
                auto cls = pop();
                push(new_object(cls));
                break;
            }
            case 'Q': push(persistent(pop())); break;        // BINPERSID
            default: {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", op);
                fail(std::string("unsupported pickle opcode ") + hex + " at byte " + std::to_string(pos_ - 1) +
                     " of data.pkl");
            }
            }
        }
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        throw Error(path_, "cannot read this PyTorch file: " + why, kFix);
    }

    // -- bytes ------------------------------------------------------------------------------
    const char* take(uint64_t k) {
        if (k > n_ - pos_) fail("data.pkl ends in the middle of a value (truncated?)");
        const char* b = p_ + pos_;
        pos_ += size_t(k);
        return b;
    }
    uint8_t u8() { return uint8_t(*take(1)); }
    uint64_t le(int k) {
        const auto* b = reinterpret_cast<const uint8_t*>(take(uint64_t(k)));
        uint64_t v = 0;
        for (int j = k - 1; j >= 0; --j) v = (v << 8) | b[j];
        return v;
    }
    uint16_t u16() { return uint16_t(le(2)); }
    uint32_t u32() { return uint32_t(le(4)); }
    uint64_t u64() { return le(8); }
    std::string line() {
        const void* nl = std::memchr(p_ + pos_, '\n', n_ - pos_);
        if (!nl) fail("GLOBAL without an end of line");
        const size_t len = size_t(static_cast<const char*>(nl) - (p_ + pos_));
        std::string s(take(len), len);
        take(1);
        return s;
    }

    // -- values -----------------------------------------------------------------------------
    static Ptr make(Kind k) { return std::make_shared<Value>(k); }
    Ptr container(Kind k) {
        auto v = make(k);
        containers_.push_back(v);
        return v;
    }
    Ptr tuple(std::vector<Ptr> items) {
        auto t = container(Kind::Tuple);
        t->items = std::move(items);
        return t;
    }
    static Ptr integer(int64_t i) {
        auto v = make(Kind::Int);
        v->i = i;
        return v;
    }
    static Ptr boolean(bool b) {
        auto v = make(Kind::Bool);
        v->i = b;
        return v;
    }
    static Ptr opaque(std::string what) {
        auto v = make(Kind::Opaque);
        v->s = std::move(what);
        return v;
    }
    Ptr text(Kind k, uint64_t len) {
        auto v = make(k);
        const char* b = take(len);
        v->s.assign(b, size_t(len));
        return v;
    }
    Ptr long_int(size_t len) {
        const auto* b = reinterpret_cast<const uint8_t*>(take(len));
        if (len > 8) return opaque("an integer wider than 64 bits");
        uint64_t v = 0;
        for (size_t j = len; j-- > 0;) v = (v << 8) | b[j];
        if (len > 0 && len < 8 && (b[len - 1] & 0x80)) v |= ~uint64_t(0) << (8 * len); // sign-extend
        return integer(int64_t(v));
    }
    static Ptr global(const std::string& module, const std::string& name) {
        auto v = make(Kind::Global);
        v->s = module + "." + name;
        return v;
    }

    // -- the stack --------------------------------------------------------------------------
    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    void push(Ptr v) { stack_.push_back(std::move(v)); }
    Ptr pop() {
        if (stack_.size() <= floor()) fail("the pickle pops an empty stack");
        Ptr v = std::move(stack_.back());
        stack_.pop_back();
        return v;
    }
    const Ptr& top() const {
        if (stack_.size() <= floor()) fail("the pickle uses an empty stack");
        return stack_.back();
    }
    std::vector<Ptr> pop_mark() {
        if (marks_.empty()) fail("the pickle uses a MARK it never set");
        const size_t k = marks_.back();
        marks_.pop_back();
        std::vector<Ptr> items(std::make_move_iterator(stack_.begin() + long(k)),
                               std::make_move_iterator(stack_.end()));
        stack_.resize(k);
        return items;
    }
    std::vector<Ptr> pop_n(size_t k) {
        if (stack_.size() < floor() + k) fail("the pickle pops an empty stack");
        std::vector<Ptr> items(std::make_move_iterator(stack_.end() - long(k)), std::make_move_iterator(stack_.end()));
        stack_.resize(stack_.size() - k);
        return items;
    }
    Ptr memo_get(uint64_t id) const {
        auto it = memo_.find(id);
        if (it == memo_.end()) fail("the pickle refers to a value it never stored (memo " + std::to_string(id) + ")");
        return it->second;
    }

    Value& dict_on_top() {
        const Ptr& d = top();
        if (d->kind == Kind::Opaque) return *scratch_dict(); // items of an unsupported mapping: dropped
        if (d->kind != Kind::Dict) fail("SETITEM on " + kind_name(d->kind));
        return *d;
    }
    Ptr scratch_dict() {
        if (!scratch_) scratch_ = container(Kind::Dict);
        scratch_->items.clear();
        scratch_->index.reset();
        return scratch_;
    }
    void set_item(Value& d, const Ptr& k, const Ptr& v) {
        if (auto h = hash_key(*k)) {
            // Every dict's index copies its keys: a big key set in many dicts would multiply the
            // file's bytes without bound, so the copies share one budget.
            key_bytes_ += h->size();
            if (key_bytes_ > kMaxKeyBytes)
                fail("dict keys of more than " + std::to_string(kMaxKeyBytes >> 20) + " MiB in all");
            if (!d.index) d.index = std::make_unique<std::unordered_map<std::string, size_t>>();
            auto [it, fresh] = d.index->emplace(*h, d.items.size());
            if (!fresh) {
                d.items[it->second + 1] = v; // Python keeps the first key and its place
                return;
            }
        }
        d.items.push_back(k);
        d.items.push_back(v);
    }
    void append(const Ptr& target, const std::vector<Ptr>& items) {
        if (target->kind == Kind::Opaque) return; // items of an unsupported sequence: dropped
        if (target->kind != Kind::List) fail("APPEND to " + kind_name(target->kind));
        target->items.insert(target->items.end(), items.begin(), items.end());
    }

    // -- globals ----------------------------------------------------------------------------
    static bool is_one_of(const std::string& s, std::initializer_list<const char*> names) {
        for (const char* n : names)
            if (s == n) return true;
        return false;
    }

    Ptr new_object(const Ptr& cls) {
        if (cls->kind == Kind::Global) {
            if (is_one_of(cls->s, {"collections.OrderedDict", "builtins.dict", "__builtin__.dict"}))
                return container(Kind::Dict);
            if (is_one_of(cls->s, {"builtins.list", "__builtin__.list", "builtins.set", "__builtin__.set"}))
                return container(Kind::List);
            return opaque(cls->s);
        }
        return opaque("an object of " + kind_name(cls->kind));
    }

    Ptr call(const Ptr& fn, const std::vector<Ptr>& args, int depth) {
        if (fn->kind != Kind::Global) return opaque("the result of calling " + kind_name(fn->kind));
        const std::string& name = fn->s;
        if (is_one_of(name, {"collections.OrderedDict", "builtins.dict", "__builtin__.dict"})) {
            auto d = container(Kind::Dict);
            if (!args.empty()) {
                const Ptr& a = args[0];
                if (a->kind == Kind::Dict) {
                    for (size_t k = 0; k < a->items.size(); k += 2) set_item(*d, a->items[k], a->items[k + 1]);
                } else if (a->kind == Kind::List || a->kind == Kind::Tuple) { // [(key, value), ...]
                    for (const auto& pair : a->items) {
                        if ((pair->kind != Kind::List && pair->kind != Kind::Tuple) || pair->items.size() != 2)
                            fail(name + " built from something other than (key, value) pairs");
                        set_item(*d, pair->items[0], pair->items[1]);
                    }
                }
            }
            return d;
        }
        if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
            return rebuild_tensor(args, std::nullopt);
        if (name == "torch._utils._rebuild_tensor_v3") { // (storage, offset, size, stride, grad, hooks, dtype, ...)
            if (args.size() < 7 || args[6]->kind != Kind::Global) fail(name + " without a dtype");
            auto dt = dtype_named(args[6]->s);
            if (!dt) fail(name + " with the unsupported dtype " + args[6]->s);
            return rebuild_tensor(args, dt);
        }
        if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
            if (args.empty() || args[0]->kind != Kind::Tensor)
                fail("a Parameter whose data is " + (args.empty() ? std::string("missing") : kind_name(args[0]->kind)) +
                     (args.empty() || args[0]->kind != Kind::Opaque ? "" : " (" + args[0]->s + ")"));
            return args[0];
        }
        if (name == "torch._tensor._rebuild_from_type_v2" || name == "torch._tensor._rebuild_from_type") {
            // (func, type, args, state): a Tensor subclass, or a tensor with Python attributes.
            if (depth > 8 || args.size() < 3 || args[2]->kind != Kind::Tuple) fail(name + " with malformed arguments");
            return call(args[0], args[2]->items, depth + 1);
        }
        if (is_one_of(name, {"builtins.set", "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset",
                             "builtins.list", "__builtin__.list", "torch.Size"})) {
            auto l = container(name == "torch.Size" ? Kind::Tuple : Kind::List);
            if (!args.empty() && (args[0]->kind == Kind::List || args[0]->kind == Kind::Tuple)) l->items = args[0]->items;
            return l;
        }
        return opaque(name);
    }

    static int64_t as_int(const Ptr& v, const char* what, const Unpickler& u) {
        if (v->kind != Kind::Int && v->kind != Kind::Bool) u.fail(std::string("a tensor whose ") + what + " is " + kind_name(v->kind));
        return v->i;
    }
    std::vector<int64_t> int_list(const Ptr& v, const char* what) const {
        if (v->kind != Kind::Tuple && v->kind != Kind::List) fail(std::string("a tensor whose ") + what + " is " + kind_name(v->kind));
        if (v->items.size() > kMaxDims) fail(std::string("a tensor with ") + std::to_string(v->items.size()) + " dimensions");
        std::vector<int64_t> out;
        for (const auto& x : v->items) {
            const int64_t i = as_int(x, what, *this);
            if (i < 0) fail(std::string("a tensor with a negative ") + what);
            out.push_back(i);
        }
        return out;
    }

    Ptr rebuild_tensor(const std::vector<Ptr>& args, std::optional<c10::ScalarType> dtype) {
        if (args.size() < 4) fail("a tensor rebuilt from too few arguments");
        const Ptr& st = args[0];
        if (st->kind != Kind::Storage) fail("a tensor whose storage is " + kind_name(st->kind));
        const int64_t offset = as_int(args[1], "storage offset", *this);
        if (offset < 0) fail("a tensor with a negative storage offset");
        const auto size = int_list(args[2], "size");
        const auto stride = int_list(args[3], "stride");
        if (size.size() != stride.size()) fail("a tensor whose size and stride differ in length");

        const c10::ScalarType type = dtype.value_or(st->dtype);
        const int64_t esize = int64_t(c10::elementSize(type));
        at::Tensor bytes = st->tensor;
        const int64_t usable = bytes.numel() - bytes.numel() % esize;
        at::Tensor flat = type == c10::ScalarType::Byte ? bytes : bytes.narrow(0, 0, usable).view(type);

        // Every element the view reaches must lie inside the storage.
        bool empty = false;
        for (auto s : size) empty |= s == 0;
        if (!empty) {
            int64_t last = offset;
            for (size_t d = 0; d < size.size(); ++d) {
                int64_t reach = 0;
                if (__builtin_mul_overflow(size[d] - 1, stride[d], &reach) || __builtin_add_overflow(last, reach, &last))
                    fail("a tensor that reaches past the end of its storage");
            }
            if (last >= flat.numel())
                fail("a tensor that reaches past the end of its storage (element " + std::to_string(last) + " of " +
                     std::to_string(flat.numel()) + ")");
        } else if (offset > flat.numel()) {
            fail("a tensor that starts past the end of its storage");
        }
        auto out = make(Kind::Tensor);
        out->tensor = flat.as_strided(size, stride, offset);
        if (type == c10::ScalarType::Bool && !empty) {
            // Only 0 and 1 are valid bools; anything else is a corrupt file.
            const at::Tensor raw = out->tensor.view(c10::ScalarType::Byte);
            if (raw.gt(1).any().item<bool>()) fail("a bool tensor holding values other than 0 and 1");
        }
        return out;
    }

    Ptr persistent(const Ptr& pid) {
        // ('storage', storage_type, key, location, numel)
        if (pid->kind != Kind::Tuple || pid->items.size() < 5 || pid->items[0]->kind != Kind::Str ||
            pid->items[0]->s != "storage")
            fail("a persistent id that is not a storage");
        const auto& it = pid->items;
        if (it[1]->kind != Kind::Global) fail("a storage whose type is " + kind_name(it[1]->kind));
        const auto dtype = dtype_named(it[1]->s);
        if (!dtype) fail("a storage of the unsupported type " + it[1]->s);
        if (it[2]->kind != Kind::Str) fail("a storage whose key is " + kind_name(it[2]->kind));
        const int64_t numel = as_int(it[4], "storage size", *this);
        at::Tensor bytes = load_(it[2]->s);
        const int64_t esize = int64_t(c10::elementSize(*dtype));
        int64_t nbytes = 0;
        if (numel < 0 || __builtin_mul_overflow(numel, esize, &nbytes) || nbytes > bytes.numel())
            fail("storage '" + it[2]->s + "' has " + std::to_string(bytes.numel()) + " bytes, fewer than the " +
                 std::to_string(numel) + " elements it should hold (truncated?)");
        auto v = make(Kind::Storage);
        v->tensor = bytes.narrow(0, 0, nbytes);
        v->dtype = *dtype;
        return v;
    }

    const char* p_;
    size_t n_;
    uint64_t key_bytes_ = 0;
    size_t pos_ = 0;
    std::string path_;
    StorageLoader load_;
    std::vector<Ptr> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, Ptr> memo_;
    std::vector<Ptr> containers_;
    Ptr scratch_;
};

// ---------------------------------------------------------------------------------------------
// Values to IValues. Shared containers stay shared; a container that contains itself gets None
// at the point it recurs.

class Converter {
public:
    explicit Converter(std::string path) : path_(std::move(path)) {}

    c10::IValue convert(const Ptr& v, int depth = 0) { return visit(v, depth).value; }

private:
    struct Done {
        c10::IValue value;
        uint64_t expanded = 0; // dict entries a recursive walk of `value` visits
    };

    [[noreturn]] void fail(const std::string& why) const {
        throw Error(path_, "cannot read this PyTorch file: " + why, kFix);
    }

    Done visit(const Ptr& v, int depth) {
        switch (v->kind) {
        case Kind::None: return {c10::IValue(), 0};
        case Kind::Bool: return {c10::IValue(v->i != 0), 0};
        case Kind::Int: return {c10::IValue(v->i), 0};
        case Kind::Float: return {c10::IValue(v->f), 0};
        case Kind::Str:
        case Kind::Bytes: return {c10::IValue(v->s), 0};
        case Kind::Tensor: return {c10::IValue(v->tensor), 0};
        case Kind::Global:
        case Kind::Opaque:
        case Kind::Storage: return {c10::IValue(), 0};
        case Kind::List:
        case Kind::Tuple:
        case Kind::Dict: break;
        }
        if (auto it = done_.find(v.get()); it != done_.end()) return it->second;
        if (depth > kMaxDepth) fail("values nested more than " + std::to_string(kMaxDepth) + " deep");
        if (!active_.insert(v.get()).second) return {c10::IValue(), 0}; // a cycle
        Done out;
        if (v->kind == Kind::Dict) {
            bool all_str = true;
            for (size_t k = 0; k < v->items.size(); k += 2) all_str &= v->items[k]->kind == Kind::Str;
            c10::impl::GenericDict d(all_str ? c10::TypePtr(c10::StringType::get()) : c10::TypePtr(c10::AnyType::get()),
                                     c10::AnyType::get());
            for (size_t k = 0; k < v->items.size(); k += 2) {
                const Value& key = *v->items[k];
                c10::IValue ik;
                if (key.kind == Kind::Str || key.kind == Kind::Bytes) ik = c10::IValue(key.s);
                else if (key.kind == Kind::Int) ik = c10::IValue(key.i);
                else if (key.kind == Kind::Bool) ik = c10::IValue(key.i != 0);
                else if (key.kind == Kind::Float) ik = c10::IValue(key.f);
                else continue; // None, tuples, ...: not representable as IValue keys
                Done child = visit(v->items[k + 1], depth + 1);
                out.expanded += 1 + child.expanded;
                if (out.expanded > kMaxExpanded) fail("more than " + std::to_string(kMaxExpanded) + " dict entries");
                d.insert_or_assign(std::move(ik), std::move(child.value));
            }
            out.value = c10::IValue(d);
        } else {
            std::vector<c10::IValue> items;
            items.reserve(v->items.size());
            for (const auto& x : v->items) items.push_back(visit(x, depth + 1).value);
            if (v->kind == Kind::Tuple) {
                out.value = c10::IValue(c10::ivalue::Tuple::create(std::move(items)));
            } else {
                c10::impl::GenericList l(c10::AnyType::get());
                l.reserve(items.size());
                for (auto& x : items) l.push_back(std::move(x));
                out.value = c10::IValue(l);
            }
        }
        active_.erase(v.get());
        done_.emplace(v.get(), out);
        return out;
    }

    std::string path_;
    std::unordered_map<const Value*, Done> done_;
    std::unordered_set<const Value*> active_;
};

// Dotted names grow with depth: shared dicts nested 21 deep with two 4 KB keys stay under the
// entry cap and would build hundreds of GB of names, so the names have a budget of their own.
struct Flattener {
    const std::string& path;
    StateDict& out;
    uint64_t name_bytes = 0;

    void operator()(const c10::IValue& v, const std::string& prefix) {
        if (v.isTensor()) {
            name_bytes += prefix.size();
            if (name_bytes > kMaxNameBytes || out.size() >= kMaxTensors)
                throw Error(path, "cannot read this PyTorch file: its state dict has more than " +
                                      std::to_string(kMaxTensors) + " tensors or " + std::to_string(kMaxNameBytes >> 20) +
                                      " MiB of names", kFix);
            out.emplace_back(prefix, v.toTensor());
        } else if (v.isGenericDict()) {
            for (const auto& kv : v.toGenericDict()) {
                if (!kv.key().isString()) continue;
                const std::string& k = kv.key().toStringRef();
                if (prefix.size() + k.size() > kMaxNameBytes)
                    throw Error(path, "cannot read this PyTorch file: a state-dict name longer than " +
                                          std::to_string(kMaxNameBytes >> 20) + " MiB", kFix);
                (*this)(kv.value(), prefix.empty() ? k : prefix + "." + k);
            }
        }
    }
};

// The zip is read from memory; PyTorchStreamReader asks for byte ranges.
class BytesAdapter final : public caffe2::serialize::ReadAdapterInterface {
public:
    explicit BytesAdapter(const std::vector<char>& bytes) : bytes_(bytes) {}
    size_t size() const override { return bytes_.size(); }
    size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
        if (pos >= bytes_.size()) return 0;
        n = size_t(std::min<uint64_t>(n, bytes_.size() - pos));
        std::memcpy(buf, bytes_.data() + pos, n);
        return n;
    }

private:
    const std::vector<char>& bytes_;
};

bool ends_with(const std::string& s, const std::string& e) {
    return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

std::string first_line(const char* what) {
    std::string s = what;
    return s.substr(0, s.find('\n'));
}

uint64_t le(const std::vector<char>& b, uint64_t at, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(b[size_t(at) + size_t(i)]);
    return v;
}

// PyTorchStreamReader allocates each record at the size the zip's central directory claims
// before reading it, so a 50 KB file can ask for gigabytes. Every record's claimed size is
// checked here first: a stored record holds exactly its bytes (miniz checks those lie inside
// the file), a deflated one can expand at most 1032 times (deflate's limit); other methods are
// refused. A directory that cannot be found is left to miniz to report.
void check_record_sizes(const std::vector<char>& b, const std::string& path) {
    const uint64_t n = b.size();
    if (n < 22) return;
    uint64_t eocd = n; // end of central directory: the last "PK\5\6" with room for its 22 bytes
    for (uint64_t i = n - 22 + 1, stop = n > 22 + 65535 ? n - 22 - 65535 : 0; i-- > stop;)
        if (le(b, i, 4) == 0x06054b50) {
            eocd = i;
            break;
        }
    if (eocd == n) return;
    uint64_t entries = le(b, eocd + 10, 2), cd_size = le(b, eocd + 12, 4), cd_offset = le(b, eocd + 16, 4);
    if ((entries == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) && eocd >= 20 &&
        le(b, eocd - 20, 4) == 0x07064b50) { // zip64: the locator points at the zip64 record
        const uint64_t z = le(b, eocd - 20 + 8, 8);
        if (z > n || n - z < 56 || le(b, z, 4) != 0x06064b50)
            throw Error(path, "cannot read this PyTorch file: a damaged zip64 directory", kFix);
        entries = le(b, z + 32, 8), cd_size = le(b, z + 40, 8), cd_offset = le(b, z + 48, 8);
    }
    if (cd_offset > n || cd_size > n - cd_offset || entries > cd_size / 46)
        throw Error(path, "cannot read this PyTorch file: its zip directory lies outside the file", kFix);
    uint64_t at = cd_offset;
    const uint64_t end = cd_offset + cd_size;
    for (uint64_t e = 0; e < entries; ++e) {
        if (end - at < 46 || le(b, at, 4) != 0x02014b50)
            throw Error(path, "cannot read this PyTorch file: a damaged zip directory entry", kFix);
        const uint64_t method = le(b, at + 10, 2), name_len = le(b, at + 28, 2), extra_len = le(b, at + 30, 2),
                       comment_len = le(b, at + 32, 2);
        uint64_t comp = le(b, at + 20, 4), uncomp = le(b, at + 24, 4);
        if (46 + name_len + extra_len + comment_len > end - at)
            throw Error(path, "cannot read this PyTorch file: a damaged zip directory entry", kFix);
        const std::string name(b.data() + at + 46, size_t(name_len));
        // zip64 sizes: the extra field 0x0001 holds those set to 0xffffffff, uncompressed first.
        for (uint64_t x = at + 46 + name_len, xend = x + extra_len; xend - x >= 4;) {
            const uint64_t id = le(b, x, 2), len = le(b, x + 2, 2);
            if (len > xend - x - 4) break;
            if (id == 0x0001) {
                uint64_t f = x + 4;
                if (uncomp == 0xffffffff && f + 8 <= x + 4 + len) uncomp = le(b, f, 8), f += 8;
                if (comp == 0xffffffff && f + 8 <= x + 4 + len) comp = le(b, f, 8);
            }
            x += 4 + len;
        }
        const bool fits = method == 0 ? uncomp == comp && comp <= n
                          : method == 8 ? comp <= n && uncomp / 1032 <= comp
                                        : false;
        if (!fits)
            throw Error(path, "cannot read this PyTorch file: record '" + name + "' claims " + std::to_string(uncomp) +
                                  " bytes from " + std::to_string(comp) +
                                  (method == 0 || method == 8 ? " stored in a file of " + std::to_string(n) + " bytes"
                                                              : " with compression method " + std::to_string(method)),
                        kFix);
        at += 46 + name_len + extra_len + comment_len;
    }
}

c10::IValue read_object(const std::vector<char>& bytes, const std::string& path) {
    check_record_sizes(bytes, path);
    caffe2::serialize::PyTorchStreamReader reader(std::make_shared<BytesAdapter>(bytes));
    // Record names are relative to the archive folder ("archive/" or the file's stem).
    const std::vector<std::string> records = reader.getAllRecords();
    std::string pkl;
    for (const auto& r : records)
        if (r == "data.pkl") pkl = r;
    if (pkl.empty())
        for (const auto& r : records)
            if (ends_with(r, "/data.pkl")) {
                pkl = r;
                break;
            }
    bool torchscript = false;
    for (const auto& r : records) torchscript |= r == "constants.pkl" || r.compare(0, 5, "code/") == 0;
    if (torchscript)
        throw Error(path, "a TorchScript model (torch.jit.save), not a state dict",
                    "save model.state_dict() with torch.save instead");
    if (pkl.empty()) throw Error(path, "a zip file without data.pkl: not written by torch.save", kFix);
    const std::string prefix = pkl.substr(0, pkl.size() - std::strlen("data.pkl"));

    if (reader.hasRecord(prefix + "byteorder")) {
        auto [ptr, size] = reader.getRecord(prefix + "byteorder");
        const std::string order(static_cast<const char*>(ptr.get()), size);
        if (order.compare(0, 3, "big") == 0)
            throw Error(path, "written on a big-endian machine", "load and re-save it once on a little-endian one");
    }

    std::map<std::string, at::Tensor> storages; // each loaded once, shared by every view
    auto load = [&](const std::string& key) -> at::Tensor {
        auto it = storages.find(key);
        if (it != storages.end()) return it->second;
        const std::string name = prefix + "data/" + key;
        if (!reader.hasRecord(name))
            throw Error(path, "cannot read this PyTorch file: storage '" + key + "' is missing from the zip", kFix);
        auto [ptr, size] = reader.getRecord(name);
        at::Tensor t;
        if (size == 0) {
            t = at::empty({0}, at::TensorOptions().dtype(at::kByte));
        } else {
            void* data = ptr.get();
            auto keep = std::make_shared<at::DataPtr>(std::move(ptr));
            t = at::from_blob(data, {int64_t(size)}, [keep](void*) mutable { keep.reset(); },
                              at::TensorOptions().dtype(at::kByte));
        }
        storages.emplace(key, t);
        return t;
    };

    auto [pptr, psize] = reader.getRecord(pkl);
    c10::IValue out;
    {
        Unpickler u(static_cast<const char*>(pptr.get()), psize, path, load);
        Ptr root = u.run();
        out = Converter(path).convert(root);
    }
    return out;
}

} // namespace

c10::IValue read_torch_zip_object(const std::vector<char>& bytes, const std::string& path) {
    try {
        return read_object(bytes, path);
    } catch (const Error&) {
        throw;
    } catch (const c10::Error& e) { // from the zip reader: not a zip, damaged, an unknown version
        throw Error(path, "cannot read this PyTorch file: " + first_line(e.what_without_backtrace()), kFix);
    } catch (const std::bad_alloc&) {
        throw Error(path, "cannot read this PyTorch file: out of memory (a damaged file claiming huge sizes?)", kFix);
    } catch (const std::exception& e) {
        throw Error(path, "cannot read this PyTorch file: " + first_line(e.what()), kFix);
    }
}

StateDict read_torch_zip_state(const std::vector<char>& bytes, const std::string& path) {
    const c10::IValue object = read_torch_zip_object(bytes, path);
    StateDict out;
    try {
        Flattener{path, out}(object, "");
    } catch (const std::bad_alloc&) {
        throw Error(path, "cannot read this PyTorch file: out of memory building its state dict", kFix);
    }
    return out;
}

} // namespace gafx::models
