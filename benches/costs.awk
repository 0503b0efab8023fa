# A generic external-cost CSV of `rows` rows (about 100 bytes each): three
# months, 40 clients, 400 projects, 5 tools; every row differs.
#   awk -v rows=N -f benches/costs.awk > costs.csv
BEGIN {
    srand(7);
    print "date,description,amount,currency,tool,client,project,deliverable";
    split("Midjourney,Runway,ElevenLabs,ChatGPT,Suno", tools, ",");
    for (i = 1; i <= rows; i++) {
        m = 9 + int(rand() * 3); d = 1 + int(rand() * 28);
        printf "2026-%02d-%02d,Render batch %d for the spot,%d.%02d,USD,%s,Client %d,Project %d,Shot %d\n",
            m, d, i, int(rand() * 40), int(rand() * 100), tools[1 + int(rand() * 5)],
            int(rand() * 40), int(rand() * 400), int(rand() * 30);
    }
}
