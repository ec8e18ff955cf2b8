// The built-in fault-filtered GTZAN split (torchaudio's filtered_train / filtered_valid /
// filtered_test): sizes, distinctness, name shape, the 70 tracks in no list, and spot checks
// of names read from torchaudio's gtzan.py. Plain main(): no Qt needed.
#include "data/gtzan_filtered.h"

#include <cstdio>
#include <cstring>
#include <set>
#include <string>

namespace {

int g_failures = 0;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ++g_failures;                                                                 \
        }                                                                                 \
    } while (0)

const char* const kGenres[] = {"blues", "classical", "country", "disco", "hiphop",
                               "jazz",  "metal",     "pop",     "reggae", "rock"};

bool contains(const char* const* names, int n, const char* name) {
    for (int i = 0; i < n; ++i)
        if (std::strcmp(names[i], name) == 0) return true;
    return false;
}

// "<genre>.000NN" with genre one of the ten; returns the genre's index or -1.
int genre_of(const char* name) {
    const char* dot = std::strchr(name, '.');
    if (!dot) return -1;
    const std::string genre(name, dot);
    int g = -1;
    for (int i = 0; i < 10; ++i)
        if (genre == kGenres[i]) g = i;
    if (g < 0) return -1;
    const char* num = dot + 1;
    if (std::strlen(num) != 5 || std::strncmp(num, "000", 3) != 0) return -1;
    if (num[3] < '0' || num[3] > '9' || num[4] < '0' || num[4] > '9') return -1;
    return g;
}

} // namespace

int main() {
    const gafx::data::FaultFilteredLists& l = gafx::data::gtzan_fault_filtered();
    CHECK(&l == &gafx::data::gtzan_fault_filtered());
    CHECK(l.n_train == 443);
    CHECK(l.n_val == 197);
    CHECK(l.n_test == 290);

    struct List {
        const char* const* names;
        int n;
    };
    const List lists[] = {{l.train, l.n_train}, {l.val, l.n_val}, {l.test, l.n_test}};

    // All 930 distinct, well formed, and each list in torchaudio's (sorted) order.
    std::set<std::string> all;
    for (const List& list : lists) {
        for (int i = 0; i < list.n; ++i) {
            CHECK(list.names[i] != nullptr);
            CHECK(genre_of(list.names[i]) >= 0);
            if (i > 0) CHECK(std::strcmp(list.names[i - 1], list.names[i]) < 0);
            all.insert(list.names[i]);
        }
    }
    CHECK(all.size() == 930);

    // Exactly 70 of genre.00000 .. genre.00099 are in none of the lists.
    int excluded = 0;
    int excluded_per_genre[10] = {};
    for (int g = 0; g < 10; ++g)
        for (int i = 0; i < 100; ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "%s.%05d", kGenres[g], i);
            if (!all.count(name)) {
                ++excluded;
                ++excluded_per_genre[g];
            }
        }
    CHECK(excluded == 70);
    // blues classical country disco hiphop jazz metal pop reggae rock
    const int expected_per_genre[10] = {0, 1, 2, 7, 8, 13, 9, 16, 14, 0};
    for (int g = 0; g < 10; ++g) CHECK(excluded_per_genre[g] == expected_per_genre[g]);

    // Spot checks against torchaudio's gtzan.py (first and last of each list, and a few between).
    CHECK(std::strcmp(l.train[0], "blues.00029") == 0);
    CHECK(std::strcmp(l.train[l.n_train - 1], "rock.00099") == 0);
    CHECK(contains(l.train, l.n_train, "disco.00005"));
    CHECK(contains(l.train, l.n_train, "jazz.00054")); // the corrupt file of the common GTZAN copy
    CHECK(contains(l.train, l.n_train, "pop.00080"));
    CHECK(std::strcmp(l.val[0], "blues.00000") == 0);
    CHECK(std::strcmp(l.val[l.n_val - 1], "rock.00085") == 0);
    CHECK(contains(l.val, l.n_val, "country.00049"));
    CHECK(contains(l.val, l.n_val, "pop.00010"));
    CHECK(contains(l.val, l.n_val, "rock.00038"));
    CHECK(std::strcmp(l.test[0], "blues.00012") == 0);
    CHECK(std::strcmp(l.test[l.n_test - 1], "rock.00090") == 0);
    CHECK(contains(l.test, l.n_test, "classical.00049"));
    CHECK(contains(l.test, l.n_test, "hiphop.00099"));
    CHECK(contains(l.test, l.n_test, "metal.00088"));
    CHECK(!contains(l.test, l.n_test, "blues.00029"));
    CHECK(!contains(l.val, l.n_val, "blues.00012"));
    // Some of the 70 left out.
    for (const char* out : {"classical.00042", "country.00008", "disco.00050", "hiphop.00001", "jazz.00033",
                            "metal.00004", "pop.00015", "reggae.00091"})
        CHECK(!all.count(out));

    if (g_failures) {
        std::fprintf(stderr, "test_gtzan_filtered: %d check(s) failed\n", g_failures);
        return 1;
    }
    std::printf("test_gtzan_filtered: OK (train %d, val %d, test %d, distinct %zu, excluded %d)\n", l.n_train,
                l.n_val, l.n_test, all.size(), excluded);
    return 0;
}
