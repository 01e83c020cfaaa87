"""The words that name a development, a date or a non-event, in each language we read.

Data only: classify compiles these. Patterns are written against normalised text
(textnorm.normalize: case-folded, Khmer with its word gaps removed and COENG DA written
as COENG TA, Khmer digits as ASCII). Nothing here names a country, a person or a case:
those live in config/ and baseline/.
"""

from __future__ import annotations

# The languages this file has words for (ISO 639-1), and so the only ones in which a
# development can be read. An entry in any other language is still matched by name.
LANGUAGES: frozenset[str] = frozenset({"en", "km"})


def language_packs() -> frozenset[str]:
    """The languages the judgement has words for (ISO 639-1 codes)."""
    return LANGUAGES

# Development type -> regular expressions (English). Longer, more specific phrases that
# mean another type ("denied bail" is a hearing, "house arrest" is not an arrest) are listed
# under that type; classify lets the longest overlapping phrase win.
ENGLISH_TYPES: dict[str, tuple[str, ...]] = {
    "death": (
        r"\b(died|dies|passed away|shot dead|gunned down|was killed|were killed|been killed|murdered|assassinated|found dead)\b",
        r"\bdeath of\b",
    ),
    "attack": (
        r"\b(was|were|been) (attacked|assaulted|beaten|stabbed)\b",
        r"\b(beat|beats) (a|an|the|him|her|them|two|three|up)\b",
        r"\b(beating|stabbing|assault|attack)s? (of|on)\b",
        r"\banother (beating|attack|assault)\b",
        r"\b(attacked|assaulted|beat up|beaten up|stabbed)\b",
        r"\b(attack|assault) on\b",
    ),
    "conviction": (
        r"\b(convicted|convicts|convict)\b",
        r"\bfound (him|her|them|\w+ )?guilty\b",
        r"\bguilty verdict\b",
        r"\b(mass )?convictions? of\b",
        r"\b(sentenced|sentences|sentencing|jailed|jails|imprisoned)\b",
        r"\b(handed|given|gets|got|received|receives|receive) (a |an )?(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|[a-z]+-[a-z]+)[- ]years?\b",
        r"\b\d+ (found |declared )?guilty\b",
        r"\b\d+[- ]years?( prison| jail)? (sentence|term)\b",
    ),
    "acquittal": (
        r"\b(acquitted|acquits|acquittal|found not guilty|not guilty verdict|cleared of)\b",
        r"\b(is|was|were|been|are|gets?|got) cleared\b",
        r"^([\w'-]+ ){0,4}(?<!conviction )(?<!convictions )(?<!record )cleared\b(?! (the way|to|for|by))",
    ),
    "appeal_ruling": (
        r"\b(upheld|upholds|uphold|upholding|overturned|overturns|overturn|overturning|quashed|quashes|reduced (his|her|their|the) sentence)\b",
        r"\b(rubber-stamps?|rubber-stamped|rubber-stamping)\b",
        r"\b(loses|lost|losing|wins|won|winning) (his |her |their |an |the )?appeals?\b",
        r"\b(sentence|conviction|verdict) (stands|upheld)\b",
        r"\b(rejected|rejects|dismissed|dismisses|denied|denies|ends|ended|ending|threw out|throws out)\b[^.;]{0,40}?\bappeals?\b",
        r"\bappeals? (was|were) (rejected|dismissed|denied)\b",
    ),
    "pardon": (
        r"\b(pardoned|pardons|royal pardon|granted (a )?pardon|granted clemency)\b",
        r"\b(commuted|commutes|commutation|sentence (was )?(cut|reduced|shortened)|term cut)\b",
        r"\b(cuts|cut|reduces|reduced|shortens|shortened) (the |his |her |their )?([\w-]+ ){0,2}(sentence|prison term|jail term)\b",
        r"\b(granted|grants|given|receives?|received) (an )?amnesty\b",
    ),
    "charges_dropped": (
        r"\b(dropped|drops|drop|dropping|dismissed|dismisses|dismissing|withdrew|withdraws|withdrawn|withdrawing)( [\w-]+){0,3}? charges?\b",
        r"\b(closed|closes) (his|her|their|the) case\b",
        r"\bcharges (against \w+( \w+)? )?(were |have been |had been |was )?(dropped|dismissed|withdrawn)\b",
        r"\bcase (was |has been )?(dropped|closed|dismissed)\b",
        r"\b(warrants?) (were |was |have been )?(withdrawn|revoked|cancelled|lifted)\b",
    ),
    "release": (
        r"\b(released|releases|freed|frees|walked free|set free|left prison|release of|released from)\b",
        r"\b(relaxed|eased|lifted) (his|her|their|the) (bail|court supervision|supervision|restrictions|conditions)\b",
        r"\bwalked out of (the )?(\w+ ){0,2}(prison|jail|gate)\b",
        r"\b(completing|completed|served|serving out) (his|her|their) ([\w-]+ ){0,2}(sentence|term)\b",
        r"\bbail conditions (were |was )?(relaxed|eased|lifted)\b",
    ),
    "bail": (
        r"\b(on bail|granted bail|grants bail|out on bail|bailed|released on bail|provisional release|provisionally released)\b",
        r"\b(freed|released|let out|set free) on bail\b",
    ),
    "ban_lifted": (
        r"\bban\b[^.;]{0,60}?\b(expires|expired|ends|ended|lapses|lapsed)\b",
        r"\bban (was |has been |had been )?(lifted|ended|expired|revoked)\b",
        r"\b(lifted|lifts|lift) (the |a |his |her |their )?(political )?ban\b",
    ),
    "rehabilitation": (
        r"\b(rehabilitated|rehabilitates|rehabilitation)\b",
        r"\b(restored|restores|restore|regained|regains|regain|returned)( \w+){0,2} (political |civil )?rights?\b",
        r"\b(political|civil) rights (were |was |have been |had been )?restored\b",
        r"\b(conviction|convictions|record|criminal record)s? (was |were |is |been )?(cleared|expunged|erased|wiped)\b",
    ),
    "ban": (
        r"\b(was|were|been|be) (banned|barred|disqualified)\b",
        r"\b(bans|banning|barred from|disqualified from|stripped of)\b",
        r"\b(disqualifies|disqualify|disqualified|disqualifying)\b",
        r"\b(bars|barring)\b[^.;]{0,60}?\bfrom\b",
        r"\b(rejected|rejects|reject|refused|refuses|refuse|denied|denies|deny)( \w+){0,2} registration\b",
        r"\b(shut|shuts|kept|keeps) out of\b",
        r"\b(refused|refuses) to register\b",
        r"\b(struck|strikes|strike|removed|removes)\b[^.;]{0,40}?\b(off|from) (the |a |its )?(\w+ )?(ballot|candidate list|list)\b",
        r"\bbanned (him|her|them|\d+)\b",
        r"\b(was|were|been) dissolved\b",
        r"\b(dissolves|dissolving) (the )?\w+\b",
    ),
    "arrest": (
        r"\b(arrested|arrests|arrest|detained|detains|detention of|taken into custody|apprehended|rounded up)\b",
        r"\barrest warrants?\b",
        r"\bwarrants? (for|against) (the |his |her |their )?(arrest|\w+)\b",
    ),
    "charge": (
        r"\b(charged|charges (him|her|them)|indicted|indictment|new charges?)\b",
        r"\b(charges|charging)\b(?! (against|were|was|have|had))[^.;]{0,60}?\bwith\b",
        r"\b(was|were|been|formally) accused of\b",
    ),
    "summons": (r"\b(summon|summoned|summons|summonses|summoning)\b",),
    "trial_opened": (
        r"\btrial (opened|opens|began|begins|started|starts|got under way|gets under way|kicked off)\b",
        r"\b(went|goes|go|stood|stands|stand) (on )?trial\b",
        r"\bfirst day of (the |his |her |their )?trial\b",
        r"\bopening of (the |his |her |their )?trial\b",
    ),
    "trial_resumed": (
        r"\btrial (resumed|resumes|restarted|restarts|reopened|reopens)\b",
        r"\b(resumed|resumes|resumption of|reopened) (the |his |her |their )?(treason |criminal )?trial\b",
    ),
    "trial_adjourned": (
        r"\b(adjourned|adjourns|adjourn|adjournment|postponed|postpones|postponement|suspended|suspends|delayed|delays)\b",
    ),
    "hearing": (
        r"\b(hearing|testified|testifies|testify|questioned|cross-examined|closing arguments|closing statements)\b",
        r"\bappeal (hearing|trial)\b",
        r"\b(hears|heard|hear|hearing)( \w+){0,3} (witness|witnesses|testimony|arguments|evidence|closing)\b",
        r"\b(appeals? court|court of appeal) (heard|hears|began hearing|begins hearing)\b",
        r"\bappeal (was |is )?heard\b",
        r"\b(denied|refused|rejected|denies|refuses|rejects) (him |her |them )?bail\b",
        r"\bbail (request |application )?(was |were )?(denied|refused|rejected)\b",
    ),
    "appeal": (
        r"\b(filed|files|lodged|lodges|launched|launches|submitted|submits) (an |a |his |her |their )?appeals?\b",
        r"\b(appealed|appeals|appealing) (against )?(the |his |her |their )?(verdict|conviction|sentence|ruling|decision)\b",
        r"\btakes? (\S+ ){0,3}(case|appeal|conviction|verdict|sentence) to (the )?\w+ court\b",
    ),
    "exile": (
        r"\b(fled|flees|flee|went into exile|into exile|deported|deports|deportation|extradited|expelled)\b",
        r"\b(blocked|prevented|stopped|barred) from (entering|boarding|flying|returning|travelling|traveling)\b",
        r"\bdenied (entry|boarding)\b",
        r"\b(blocked|stopped|turned back|turned away|held) (in|at) (the )?\w+ (airport|border)\b",
        r"\b(blocked|stopped|turned back|turned away) (in|at)\b",
        r"\brefused (him|her|them) (a )?(boarding|entry|passage)\b",
    ),
    "return": (
        r"\b(returned|returns|return) (home|from exile)\b",
        r"\b(returned|returns|returning) from\b",
        r"\b(returned|returns|returning|came back|comes back)\b[^.;]{0,40}?\bafter\b",
        r"\b(ends|ended|ending) (his|her|their) (self-imposed )?exile\b",
        r"\b(is|was|are|were) back (in|home)\b",
        r"\b(flew|flies|fly|came|comes|come|arrived|arrives|travelled|traveled) (back )?home\b",
        r"\b(landed|lands|flew|flies) (back )?(in|at|into)\b",
        r"\breturned to (the country|his homeland|her homeland)\b",
        r"\b(homecoming|arrived back)\b",
    ),
}

# Khmer: no word boundaries; each phrase is matched as a substring of normalised text.
KHMER_TYPES: dict[str, tuple[str, ...]] = {
    "death": ("បាញ់សម្លាប់", "ធ្វើឃាត", "ត្រូវបានសម្លាប់", "ស្លាប់", "មរណភាព", "ទទួលមរណភាព"),
    "attack": ("វាយប្រហារ", "វាយដំ", "ចាក់សម្លាប់"),
    "conviction": ("កាត់ទោស", "ផ្តន្ទាទោស", "ពិរុទ្ធ", "ដាក់ពន្ធនាគារ", "ជាប់ពន្ធនាគារ"),
    "acquittal": ("រួចទោស", "រួចខ្លួនពីបទ", "ដោះលែងដោយគ្មានទោស", "គ្មានពិរុទ្ធភាព"),
    "appeal_ruling": (
        "តម្កល់សាលក្រម", "សាលាឧទ្ធរណ៍តម្កល់", "តម្កល់ទោស", "ច្រានចោលបណ្តឹងឧទ្ធរណ៍", "ច្រានចោលបណ្តឹងសាទុក្ខ",
        "ច្រានចោលបណ្តឹង", "ច្រានចោលពាក្យស្នើសុំ", "រក្សាសាលក្រម",
    ),
    "pardon": ("លើកលែងទោស", "អភ័យទោស", "ព្រះរាជលើកលែងទោស", "បន្ធូរបន្ថយទោស", "កាត់បន្ថយទោស"),
    "charges_dropped": (
        "ទម្លាក់ការចោទប្រកាន់", "ទម្លាក់ចោទ", "ទម្លាក់បទចោទ", "លុបចោលការចោទប្រកាន់", "ដកដីកា",
        "លើកលែងការចោទប្រកាន់", "លើកលែងចោទប្រកាន់",
    ),
    "release": ("ដោះលែង", "ចេញពីពន្ធនាគារ", "ចេញពីគុក", "បន្ធូរបន្ថយ"),
    "bail": ("នៅក្រៅឃុំ", "ដោះលែងឲ្យនៅក្រៅឃុំ", "ដោះលែងដោយមានការធានា", "ធានាខ្លួន"),
    "ban_lifted": ("លើកការហាមឃាត់", "ដកការហាមឃាត់", "ផុតកំណត់"),
    "rehabilitation": ("ស្តារសិទ្ធិនយោបាយ", "ស្តារនីតិសម្បទា", "ទទួលបានសិទ្ធិនយោបាយវិញ", "ស្តារសិទ្ធិ", "នីតិសម្បទា"),
    "ban": (
        "ហាមឃាត់", "ហាមមិនឲ្យ", "ហាមមិនអោយ", "ត្រូវបានរំលាយ", "រំលាយ", "លុបឈ្មោះបេក្ខជន",
        "បដិសេធមិនចុះបញ្ជី", "មិនចុះបញ្ជី", "មិនឲ្យឈរឈ្មោះ", "ហាមឈរឈ្មោះ", "ដកសិទ្ធិឈរឈ្មោះ",
    ),
    "arrest": ("ចាប់ខ្លួន", "ឃាត់ខ្លួន", "ដីកាចាប់ខ្លួន", "ចាប់ឃុំខ្លួន"),
    "charge": ("ចោទប្រកាន់", "ចោទពីបទ", "ត្រូវបានចោទ"),
    "summons": ("កោះហៅ", "ដីកាកោះ"),
    "trial_opened": ("ចាប់ផ្តើមសវនាការ", "បើកសវនាការជំនុំជម្រះ", "ចាប់ផ្តើមជំនុំជម្រះ"),
    "trial_resumed": (
        "បន្តសវនាការ", "សវនាការឡើងវិញ", "បើកសវនាការឡើងវិញ", "ជំនុំជម្រះឡើងវិញ", "បន្តឡើងវិញ", "បើកឡើងវិញ",
    ),
    "trial_adjourned": ("ពន្យារពេល", "ផ្អាកសវនាការ", "លើកពេលសវនាការ", "ផ្អាក", "លើកពេល"),
    "hearing": (
        "សវនាការ", "ជំនុំជម្រះ", "ប្រាប់តុលាការ", "បដិសេធការស្នើសុំនៅក្រៅឃុំ", "មិនឲ្យនៅក្រៅឃុំ",
        "សវនាការប្តឹងឧទ្ធរណ៍", "សវនាការបណ្តឹងឧទ្ធរណ៍", "សវនាការប្តឹងសាទុក្ខ",
    ),
    "appeal": (
        "ប្តឹងឧទ្ធរណ៍", "ដាក់បណ្តឹងឧទ្ធរណ៍", "ដាក់ពាក្យបណ្តឹងឧទ្ធរណ៍", "ពាក្យបណ្តឹងឧទ្ធរណ៍", "ប្តឹងសាទុក្ខ",
        "ដាក់បណ្តឹងសាទុក្ខ",
    ),
    "exile": ("និរទេស", "ភៀសខ្លួន", "រត់ចោលស្រុក", "បណ្តេញចេញ", "ហាមមិនឱ្យចូល", "បដិសេធមិនឱ្យឡើងយន្តហោះ", "មិនឱ្យឡើងយន្តហោះ"),
    "return": ("វិលត្រឡប់", "វិលមកវិញ", "ត្រឡប់មកស្រុកវិញ", "វិលត្រឡប់មកពីការនិរទេស", "វិលត្រឡប់ពីការនិរទេស"),
}

# Phrases that contain a type word but report no event of that type in a sentence.
ENGLISH_NOT_EVENTS: tuple[str, ...] = (
    r"\bhouse[- ]arrest\b",  # a sentence's form, not an arrest
    r"\b(told|addressed|before) (a|an|the) ([\w-]+ ){0,3}(hearing|committee|session)\b",  # a venue
    # "convicted activists", "the man convicted of the killing": who someone is, not news.
    r"\b(convicted|jailed|detained|imprisoned|exiled|pardoned|arrested|banned|dissolved|freed|released|acquitted)"
    r" (activists?|members?|leaders?|opposition|politicians?|prisoners?|men|women|people|party|figures?|lawmakers?)\b",
    r"\b(man|woman|men|women|soldier|person|people|those|one|killer|gunman) (convicted|jailed|sentenced|arrested|"
    r"charged|detained|imprisoned) (of|for|over|in)\b",
    # Participles used as adjectives describe, they do not report: "the jailed leader".
    r"(^|\b(the|a|an|its|his|her|their|former|court-|now-|recently|once-|all|other|many|some|several|of|fellow|those|anyone|everyone))[ -]?(banned|dissolved|outlawed|"
    r"disbanded|jailed|detained|imprisoned|exiled|convicted|pardoned|arrested|charged|"
    r"acquitted|freed|released)\b(?! (on|by|in|after|from|for|at|last|this|yesterday|today))",
    r"\bamnesty international\b",
    r"\bbanned from politics\b(?= (since|for the past))",
    r"\barbitrary arrest\b",
    r"\bcharges against (him|her|them)\b(?! (were|was|have|had))",
    r"\bpolitically[- ]motivated (charges?|arrest|trial)\b",
    r"\bappealed to\b",
    r"\bon trial for\b",
    r"\b(sentence|verdict) (is|was) (due|expected)\b",
)
KHMER_NOT_EVENTS: tuple[str, ...] = (
    "ឃុំខ្លួនក្នុងផ្ទះ", "ឃុំឃាំងក្នុងផ្ទះ", "ត្រូវបានរំលាយដោយតុលាការ", "ផែនការវិលត្រឡប់", "គម្រោងវិលត្រឡប់",
    "សំណុំរឿង",  # "the case file": a date after it dates the case, not the day's event
    "នៅនិរទេស", "រស់នៅនិរទេស", "នៅក្រៅប្រទេស",  # "still in exile": a state, not a departure
)

# A clause that opens with a bare verb is a demand: "Five years on, drop the charges".
ENGLISH_IMPERATIVE = r"^\s*(drop|free|release|lift|end|restore|stop|reverse|quash|overturn|pardon|acquit)\b"
# "Hun Sen says ...", "Chin Malin: ...": a headline whose speaker is not a watched subject
# reports a statement, not a development.
ENGLISH_SPEECH = r"\b(says?|said|tells?|told|warns?|warned|vows?|vowed|insists?|claims?|denies|rules out)\b"

# Calls and demands reach across a list: "urged X to free him, restore his rights and ...".
ENGLISH_APPEALS = (
    r"\b(call(s|ed|ing)? (for|on)|urg(e|es|ed|ing)|demand(s|ed|ing)?|press(es|ed|ing)? for|"
    r"appeal(s|ed|ing)? (for|to)|petition(s|ed)?|campaign(s|ed)? for)\b"
)
# A cue before a type word in the same clause makes it a wish, a threat, a plan or a denial,
# not an event: "called for the release of", "urged the court to drop charges".
ENGLISH_NEGATIONS = (
    r"\b(call(s|ed|ing)? (for|on)|urg(e|es|ed|ing)|demand(s|ed|ing)?|press(es|ed|ing)? for|"
    r"appeal(s|ed|ing)? (for|to)|ask(s|ed|ing)?|request(s|ed|ing)?|seek(s|ing)?|sought|"
    r"want(s|ed)?|hope(s|d)?|wish(es|ed)?|plan(s|ned|ning)? to|intend(s|ed)? to|"
    r"threaten(s|ed|ing)?|fear(s|ed)?|risk(s|ed)?|could|would|should|may(?! \d)|might|must|"
    r"will|shall|won't|can|cannot|can't|to be|if|unless|whether|expect(s|ed|ing)?|"
    r"likely to|set to|due to be|about to|ahead of|await(s|ed|ing)?|before the|"
    r"to (hear|rule|decide|deliver|announce|open|resume|begin|start|consider)|scheduled|slated|"
    r"never|not|no|only|deny|denies|denied that|refus(e|es|ed) to|vow(s|ed)? to|"
    r"campaign(s|ed)? for|petition(s|ed)? for|push(es|ed)? for|"
    r"rumou?r(s|ed)?|alleg(e|es|ed|edly))\b"
)
KHMER_NEGATIONS: tuple[str, ...] = (
    "អំពាវនាវ", "ទាមទារ", "ស្នើសុំ", "ស្នើ", "គួរ", "នឹង", "អាច", "មិន", "ជំរុញ", "សង្ឃឹម", "ចង់",
    "គម្រោង", "បដិសេធ", "ព្រមាន", "កំណត់ថ្ងៃ", "កំណត់បើក", "កំណត់ពេល", "ត្រៀម", "រៀបចំ",
)

# A sentence that denies a report ("reports of a pardon are untrue") tells of no event.
ENGLISH_DENIALS = (
    r"\b(denied|denies|deny|dismissed|dismisses|rejected|rejects) (the |a |any )?(reports?|rumou?rs?|claims?)\b"
    r"|\b(not true|untrue|false reports?|fake news|baseless|rumou?r(s|ed)?)\b"
)
KHMER_APPEALS: tuple[str, ...] = ("អំពាវនាវ", "ទាមទារ", "ជំរុញ", "ស្នើសុំ")
KHMER_NEUTRAL: tuple[str, ...] = ("មិនស្គាល់មុខ", "មិនស្គាល់អត្តសញ្ញាណ")
KHMER_DENIALS: tuple[str, ...] = ("មិនពិត", "ពាក្យចចាមអារ៉ាម", "ព័ត៌មានក្លែងក្លាយ", "គ្មានមូលដ្ឋាន")

# Words that say a sentence recalls the past rather than reporting the day's news.
ENGLISH_RECAP = (
    r"\b(anniversary|years? (after|since|ago)|months? (after|since|ago)|since (his|her|their) "
    r"|who (was|were|had been|has been|is|are)|(that|which) (\w+ed|freed|won|gave|sent|put)|"
    r"had been|previously|already|once again|later|then|subsequently|eventually|"
    r"remember(s|ed|ing)?|commemorat\w+|mark(s|ed|ing)? \w+ years|recall(s|ed|ing)?|"
    r"look(s|ed)? back|timeline|explainer|background|in the years since|formerly|"
    r"(years?|months?|decades?) on)\b"
)
KHMER_RECAP: tuple[str, ...] = (
    "ខួប", "គម្រប់", "កាលពីឆ្នាំ", "រំលឹក", "ធ្លាប់", "ពីមុន", "ឆ្នាំក្រោយ", "ខែក្រោយ", "សប្តាហ៍ក្រោយ", "នៅតែ",
    "បន្ទាប់ពី", "ក្រោយ",
)

# Titles of pieces that look back (known events retold) and of pieces that argue or talk
# (no development: a mention), whatever they name.
# Titles of pieces that look back (known events retold) and of pieces that argue or talk
# (no development: a mention). The labels count at the start of a headline or before a
# colon ("Explainer: ...", "Analysis | ..."), not inside one ("a high-profile arrest").
_LABEL = r"(^\s*({words})\b|\b({words})\s*[:|])"
ENGLISH_LOOK_BACK_TITLE = (
    _LABEL.format(words="explainer|explained|timeline|profile|obituary|in pictures|photos|long read|feature")
    + r"|\b(what we know|who is|a look back|looking back|a history of|how the \w+( \w+)? case)\b"
    + r"|[:|]\s*(a |an |the )?(timeline|explainer|profile|look back|chronology)\s*$"
)
ENGLISH_DISCUSSION_TITLE = (
    _LABEL.format(words="opinion|op-ed|editorial|commentary|analysis|interview|q&a|podcast|letter|review|"
                  "column|viewpoint|perspective")
    # "Mu Sochua: 'We will keep fighting'": a speaker and a quote.
    + r"|^[^:'\"]{2,60}:\s*['\"]"
    # Khmer labels ("បទសម្ភាសន៍៖" interview, "មតិ៖" opinion); Khmer has no word boundaries.
    + r"|^\s*(បទសម្ភាសន៍|សម្ភាសន៍|មតិ|អត្ថាធិប្បាយ|វិភាគ)\s*[៖:|]"
)

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
    # Khmer solar month names
    "មករា": 1, "កុម្ភៈ": 2, "កុម្ភះ": 2, "មីនា": 3, "មេសា": 4, "ឧសភា": 5, "មិថុនា": 6,
    "កក្កដា": 7, "សីហា": 8, "កញ្ញា": 9, "តុលា": 10, "វិច្ឆិកា": 11, "ធ្នូ": 12,
}
WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
    "ច័ន្ទ": 0, "អង្គារ": 1, "ពុធ": 2, "ព្រហស្បតិ៍": 3, "ព្រហស្បតិ": 3, "សុក្រ": 4,
    "សៅរ៍": 5, "អាទិត្យ": 6,
}
# Relative day words -> days before publication.
RELATIVE_DAYS = {
    "today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0,
    "yesterday": 1, "last night": 1, "the day before": 2,
    "ថ្ងៃនេះ": 0, "ព្រឹកនេះ": 0, "ល្ងាចនេះ": 0, "ម្សិលមិញ": 1, "យប់មិញ": 1,
}
RELATIVE_WEEKS = ("last week", "earlier this week", "this week", "សប្តាហ៍មុន", "សប្តាហ៍នេះ")
# Words that name a time after publication: what they date is scheduled, not done.
FUTURE_DAYS = {
    "tomorrow": 1, "next week": 7, "next month": 30, "next year": 365, "later this year": 90,
    "later this month": 10, "ថ្ងៃស្អែក": 1, "នៅសប្តាហ៍ក្រោយ": 7, "នៅខែក្រោយ": 30, "នៅឆ្នាំក្រោយ": 365,
    "ឆ្នាំក្រោយ": 365,
}
RELATIVE_MONTHS = {
    "last month": 1, "earlier this month": 0, "this month": 0, "ខែមុន": 1, "ខែនេះ": 0,
}
RELATIVE_YEARS = {"last year": 1, "earlier this year": 0, "this year": 0, "ឆ្នាំមុន": 1, "ឆ្នាំនេះ": 0}
KHMER_DAY_WORD = "ថ្ងៃ"
KHMER_MONTH_WORD = "ខែ"
KHMER_YEAR_WORD = "ឆ្នាំ"
KHMER_PAST = "កាលពី"
