"""exercise starter library: common rehabilitation exercises every clinic shares

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 01:20:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stable ids, derived from the name, so every database names a shipped exercise the same way.
NAMESPACE = uuid.UUID("0e6c9a57-3f4b-4f1e-8d2a-7b5c1e9f6a24")

LOWER = "lower_body"
UPPER = "upper_body"

# name, body_region, body, category, dosing, equipment, description.
# Regions: knee, hip, ankle_foot, shoulder, elbow_wrist, spine, neck, whole_body.
# Equipment is one lower-case word or a short list; "barbell" alone marks a barbell load (the
# progression rules round its increments to 2.5 kg). Trunk control work counts as upper_body,
# so a loaded variation progresses by the smaller step.
LIBRARY: list[tuple[str, str, str, str, str, str, str]] = [
    # Knee
    (
        "Split squat",
        "knee",
        LOWER,
        "strength",
        "reps",
        "none",
        "Stand in a long split stance and lower the back knee towards the floor, keeping the "
        "front heel down and the trunk upright, then drive up through the front foot.",
    ),
    (
        "Bulgarian split squat",
        "knee",
        LOWER,
        "strength",
        "reps",
        "bench, dumbbell",
        "Split squat with the rear foot resting on a bench behind you: lower until the front "
        "thigh is about parallel to the floor, then drive up through the front foot.",
    ),
    (
        "Goblet squat",
        "knee",
        LOWER,
        "strength",
        "reps",
        "kettlebell",
        "Hold a kettlebell or dumbbell at the chest, squat down between the knees with the "
        "chest tall and the knees tracking over the toes, then stand up.",
    ),
    (
        "Back squat",
        "knee",
        LOWER,
        "strength",
        "reps",
        "barbell",
        "With a barbell across the upper back, squat to the depth you control with a neutral "
        "spine and the knees tracking over the toes, then stand up.",
    ),
    (
        "Spanish squat",
        "knee",
        LOWER,
        "strength",
        "time",
        "band",
        "Loop a heavy strap or band behind both knees, anchored in front, lean back against it "
        "and sit into a squat with vertical shins; hold the position.",
    ),
    (
        "Leg press",
        "knee",
        LOWER,
        "strength",
        "reps",
        "machine",
        "Seated in a leg press, lower the sled until the knees bend to about 90 degrees, "
        "keeping the lower back on the pad, then press back to almost straight.",
    ),
    (
        "Knee extension (machine)",
        "knee",
        LOWER,
        "strength",
        "reps",
        "machine",
        "Seated in a knee extension machine with the pad above the ankle, straighten the knee "
        "fully, then lower under control through the range the clinician sets.",
    ),
    (
        "Wall sit",
        "knee",
        LOWER,
        "strength",
        "time",
        "none",
        "With the back against a wall, slide down until the knees are bent to the set angle, "
        "feet hip-width apart, and hold.",
    ),
    (
        "Step-up",
        "knee",
        LOWER,
        "strength",
        "reps",
        "box",
        "Place one foot on a box or step and stand up onto it by driving through that heel, "
        "without pushing off the trailing foot; step down under control.",
    ),
    (
        "Forward step-down",
        "knee",
        LOWER,
        "motor_control",
        "reps",
        "step",
        "Stand on a step and slowly lower the other heel towards the floor in front, keeping "
        "the stance knee over the second toe and the pelvis level, then return.",
    ),
    (
        "Terminal knee extension with band",
        "knee",
        LOWER,
        "strength",
        "reps",
        "band",
        "With a band anchored in front and looped behind the knee, start slightly bent and "
        "straighten the knee fully against the band, squeezing the quadriceps.",
    ),
    (
        "Straight leg raise",
        "knee",
        LOWER,
        "strength",
        "reps",
        "none",
        "Lying on your back with the other knee bent, tighten the quadriceps to lock the knee "
        "straight and lift the leg to the height of the other knee, then lower slowly.",
    ),
    (
        "Heel slide",
        "knee",
        LOWER,
        "mobility",
        "reps",
        "none",
        "Lying on your back, slide the heel towards the buttock to bend the knee as far as "
        "comfortable, pause, then slide it back out straight.",
    ),
    (
        "Nordic hamstring curl",
        "knee",
        LOWER,
        "strength",
        "reps",
        "none",
        "Kneeling with the ankles held down by a partner or anchor, lower the body forwards as "
        "slowly as possible by resisting with the hamstrings, then catch yourself with the hands.",
    ),
    (
        "Stationary cycling",
        "knee",
        LOWER,
        "conditioning",
        "time",
        "stationary bike",
        "Cycle on a stationary bike with the saddle set so the knee is slightly bent at the "
        "bottom of the stroke, at the resistance and cadence prescribed.",
    ),
    # Hip
    (
        "Romanian deadlift",
        "hip",
        LOWER,
        "strength",
        "reps",
        "barbell",
        "Holding a barbell, hinge at the hips with soft knees and a neutral spine, lowering the "
        "bar along the thighs until the hamstrings are stretched, then drive the hips forward.",
    ),
    (
        "Single-leg Romanian deadlift",
        "hip",
        LOWER,
        "strength",
        "reps",
        "dumbbell",
        "Standing on one leg with a dumbbell in the opposite hand, hinge forwards as the free "
        "leg reaches back, keeping the pelvis level, then return to standing.",
    ),
    (
        "Hip thrust",
        "hip",
        LOWER,
        "strength",
        "reps",
        "barbell",
        "With the upper back on a bench and a padded barbell over the hips, drive the hips up "
        "until the trunk and thighs are in line, pause, then lower.",
    ),
    (
        "Glute bridge",
        "hip",
        LOWER,
        "strength",
        "reps",
        "none",
        "Lying on your back with the knees bent, squeeze the buttocks and lift the hips until "
        "the shoulders, hips and knees are in line, then lower slowly.",
    ),
    (
        "Side-lying hip abduction",
        "hip",
        LOWER,
        "strength",
        "reps",
        "none",
        "Lying on your side with the bottom knee bent, lift the straight top leg slightly "
        "behind the body line, toes forward, without rolling the pelvis back, then lower.",
    ),
    (
        "Clamshell",
        "hip",
        LOWER,
        "strength",
        "reps",
        "band",
        "Lying on your side with the hips and knees bent and a band above the knees, keep the "
        "feet together and open the top knee without rolling the pelvis back.",
    ),
    (
        "Copenhagen plank",
        "hip",
        LOWER,
        "strength",
        "time",
        "bench",
        "In a side plank with the top leg resting on a bench (at the knee for the short lever, "
        "the ankle for the long), lift the hips and hold, the bottom leg free.",
    ),
    (
        "Adductor squeeze",
        "hip",
        LOWER,
        "strength",
        "time",
        "ball",
        "Lying on your back with the knees bent, squeeze a ball or folded pillow between the "
        "knees at the effort prescribed and hold.",
    ),
    (
        "Lateral band walk",
        "hip",
        LOWER,
        "strength",
        "reps",
        "band",
        "With a band around the knees or ankles and a slight squat, step sideways keeping "
        "tension on the band and the toes forward; count steps each way.",
    ),
    (
        "90/90 hip switch",
        "hip",
        LOWER,
        "mobility",
        "reps",
        "none",
        "Sitting with both hips and knees bent to 90 degrees, one leg in front and one to the "
        "side, rotate both knees over to the other side and back, staying tall.",
    ),
    (
        "Couch stretch",
        "hip",
        LOWER,
        "mobility",
        "time",
        "none",
        "Kneel with the back shin up against a wall or sofa and the other foot forward, then "
        "tuck the pelvis under and lift the trunk to stretch the front of the hip and thigh.",
    ),
    # Ankle and foot
    (
        "Double-leg calf raise",
        "ankle_foot",
        LOWER,
        "strength",
        "reps",
        "none",
        "Standing on both feet, rise onto the balls of the feet as high as possible, pause, "
        "then lower slowly.",
    ),
    (
        "Single-leg calf raise",
        "ankle_foot",
        LOWER,
        "strength",
        "reps",
        "step",
        "Standing on one foot on the edge of a step, rise as high as possible, then lower the "
        "heel slowly below the step, with a fingertip on a wall for balance.",
    ),
    (
        "Bent-knee soleus raise",
        "ankle_foot",
        LOWER,
        "strength",
        "reps",
        "none",
        "With the knee bent to about 45 degrees and held there, rise onto the ball of the foot "
        "and lower slowly, to load the soleus; add weight across the knees when easy.",
    ),
    (
        "Tibialis raise",
        "ankle_foot",
        LOWER,
        "strength",
        "reps",
        "none",
        "Lean the back against a wall with the feet a step in front, lift the toes and forefoot "
        "as high as possible, then lower slowly.",
    ),
    (
        "Ankle eversion with band",
        "ankle_foot",
        LOWER,
        "strength",
        "reps",
        "band",
        "Seated with a band around the forefoot anchored to the inside, turn the sole of the "
        "foot outwards against the band without rotating the leg, then return slowly.",
    ),
    (
        "Knee-to-wall ankle mobilisation",
        "ankle_foot",
        LOWER,
        "mobility",
        "reps",
        "none",
        "Facing a wall in a split stance, drive the front knee towards the wall over the second "
        "toe with the heel down; move the foot back as range improves.",
    ),
    (
        "Short foot",
        "ankle_foot",
        LOWER,
        "motor_control",
        "reps",
        "none",
        "With the foot flat, draw the ball of the foot towards the heel to raise the arch "
        "without curling the toes, hold a few seconds and relax.",
    ),
    (
        "Single-leg balance",
        "ankle_foot",
        LOWER,
        "balance",
        "time",
        "none",
        "Stand on one leg with a slightly bent knee and a level pelvis and hold; progress by "
        "closing the eyes or moving the head and arms.",
    ),
    (
        "Single-leg balance on foam",
        "ankle_foot",
        LOWER,
        "balance",
        "time",
        "foam pad",
        "Stand on one leg on a foam pad or cushion, keeping the knee soft and the pelvis level, "
        "and hold.",
    ),
    (
        "Y-balance reach",
        "ankle_foot",
        LOWER,
        "balance",
        "reps",
        "none",
        "Standing on one leg, reach the other foot as far as possible forwards, then "
        "back-inside and back-outside, tapping lightly and returning without losing balance.",
    ),
    (
        "Tandem walk",
        "ankle_foot",
        LOWER,
        "balance",
        "distance",
        "none",
        "Walk forwards in a straight line placing the heel of one foot directly in front of "
        "the toes of the other.",
    ),
    # Plyometrics
    (
        "Pogo hops",
        "ankle_foot",
        LOWER,
        "plyometric",
        "reps",
        "none",
        "Hop on the spot off both feet using the ankles, with stiff, quick, quiet contacts on "
        "the balls of the feet; progress to single-leg.",
    ),
    (
        "Skipping rope",
        "ankle_foot",
        LOWER,
        "plyometric",
        "time",
        "jump rope",
        "Skip with a rope on the balls of the feet with low, rhythmic bounces.",
    ),
    (
        "Countermovement jump",
        "knee",
        LOWER,
        "plyometric",
        "reps",
        "none",
        "From standing, dip quickly into a quarter squat and jump as high as possible, then "
        "land softly on both feet with the knees over the toes.",
    ),
    (
        "Drop jump",
        "knee",
        LOWER,
        "plyometric",
        "reps",
        "box",
        "Step off a low box, land on both feet and rebound straight up as quickly as possible, "
        "keeping ground contact short and the knees over the toes.",
    ),
    (
        "Box jump",
        "knee",
        LOWER,
        "plyometric",
        "reps",
        "box",
        "Jump from both feet onto a box, landing softly in a half squat, then step down.",
    ),
    (
        "Single-leg hop and stick",
        "knee",
        LOWER,
        "plyometric",
        "reps",
        "none",
        "Hop forwards on one leg and land on the same leg, holding the landing for two seconds "
        "with the knee over the foot and the pelvis level.",
    ),
    (
        "Lateral bounds",
        "hip",
        LOWER,
        "plyometric",
        "reps",
        "none",
        "Push off one leg to bound sideways and land on the other, sticking the landing with "
        "the knee over the foot before bounding back.",
    ),
    # Conditioning
    (
        "Walk-run intervals",
        "whole_body",
        LOWER,
        "conditioning",
        "distance",
        "none",
        "Alternate walking and easy running at the prescribed ratio (for example 1 minute "
        "running, 1 minute walking) for the total distance.",
    ),
    (
        "Sled push",
        "whole_body",
        LOWER,
        "conditioning",
        "distance",
        "sled",
        "Lean into a loaded sled with the arms extended and drive it forwards with short, "
        "powerful steps.",
    ),
    (
        "Farmer's carry",
        "whole_body",
        LOWER,
        "conditioning",
        "distance",
        "kettlebell",
        "Walk tall holding a heavy kettlebell or dumbbell in each hand, shoulders level and "
        "ribs down.",
    ),
    (
        "Rowing ergometer",
        "whole_body",
        LOWER,
        "conditioning",
        "distance",
        "rowing machine",
        "Row on an ergometer, driving with the legs first, then the trunk, then the arms, at "
        "the prescribed intensity.",
    ),
    (
        "Arm ergometer",
        "shoulder",
        UPPER,
        "conditioning",
        "time",
        "arm ergometer",
        "Turn the handles of an upper-body ergometer at the prescribed resistance and cadence, "
        "sitting tall.",
    ),
    # Shoulder
    (
        "Shoulder external rotation with band",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "band",
        "Elbow at the side and bent to 90 degrees, a towel under the arm, rotate the forearm "
        "outwards against a band anchored across the body, then return slowly.",
    ),
    (
        "Side-lying external rotation",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "dumbbell",
        "Lying on the other side with the elbow against the ribs and bent to 90 degrees, "
        "rotate a light dumbbell up towards the ceiling, then lower slowly.",
    ),
    (
        "Isometric mid-range external rotation",
        "shoulder",
        UPPER,
        "strength",
        "time",
        "none",
        "Standing by a wall or door frame, elbow at the side and bent to 90 degrees, press the "
        "back of the wrist outwards into it at the prescribed effort and hold.",
    ),
    (
        "Prone Y raise",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "dumbbell",
        "Lying face down on a bench or the floor, thumbs up, raise the straight arms overhead "
        "in a Y, drawing the shoulder blades back and down, then lower.",
    ),
    (
        "Prone T raise",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "dumbbell",
        "Lying face down, thumbs up, raise the straight arms out to the sides to form a T, "
        "squeezing the shoulder blades together, then lower.",
    ),
    (
        "Scaption",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "dumbbell",
        "Standing, thumbs up, raise the straight arms to shoulder height in the plane of the "
        "scapula, about 30 degrees forward of the side, then lower slowly.",
    ),
    (
        "Wall slide",
        "shoulder",
        UPPER,
        "motor_control",
        "reps",
        "none",
        "Forearms on a wall at shoulder height, slide the arms up overhead while the shoulder "
        "blades rotate upwards and the ribs stay down, then slide back.",
    ),
    (
        "Push-up plus",
        "shoulder",
        UPPER,
        "motor_control",
        "reps",
        "none",
        "In a push-up position (or against a wall), keep the elbows straight and push the "
        "floor away to spread the shoulder blades, then let them come together.",
    ),
    (
        "Push-up",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "none",
        "Hands under the shoulders and the body in a straight line, lower the chest to just "
        "above the floor and press back up; regress to a wall or bench.",
    ),
    (
        "Bench press",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "barbell",
        "Lying on a bench, feet planted and shoulder blades set, lower the barbell to the lower "
        "chest and press it back up over the shoulders.",
    ),
    (
        "Dumbbell shoulder press",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "dumbbell",
        "Seated or standing, press the dumbbells from shoulder height to overhead without "
        "arching the lower back, then lower under control.",
    ),
    (
        "One-arm dumbbell row",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "dumbbell",
        "With one hand and knee on a bench and a flat back, pull the dumbbell towards the hip, "
        "drawing the shoulder blade back, then lower.",
    ),
    (
        "Band row",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "band",
        "Holding a band anchored at chest height, pull the hands towards the ribs, squeezing "
        "the shoulder blades back without shrugging, then return slowly.",
    ),
    (
        "Face pull",
        "shoulder",
        UPPER,
        "strength",
        "reps",
        "cable",
        "Pull a rope on a cable set at face height towards the forehead, elbows high, finishing "
        "with the hands rotated back beside the ears.",
    ),
    (
        "Prone 90/90 ball drops",
        "shoulder",
        UPPER,
        "plyometric",
        "reps",
        "medicine ball",
        "Lying face down with the upper arm on the bench at 90 degrees to the side and the "
        "forearm hanging off the edge, rotate it up and rapidly drop and re-catch a small ball.",
    ),
    (
        "Pendulum",
        "shoulder",
        UPPER,
        "mobility",
        "time",
        "none",
        "Lean forward with the good hand on a table and let the affected arm hang, swinging it "
        "gently in small circles by shifting the body.",
    ),
    (
        "Cross-body shoulder stretch",
        "shoulder",
        UPPER,
        "mobility",
        "time",
        "none",
        "Bring the straight arm across the chest and ease it closer with the other hand, "
        "keeping the shoulder blade down, to stretch the back of the shoulder; hold.",
    ),
    # Elbow, wrist and hand
    (
        "Tyler twist",
        "elbow_wrist",
        UPPER,
        "strength",
        "reps",
        "flexible bar",
        "Holding a flexible rubber bar, twist it with the uninvolved hand to pre-load the "
        "involved wrist in extension, then slowly untwist with the involved wrist (eccentric).",
    ),
    (
        "Eccentric wrist extension",
        "elbow_wrist",
        UPPER,
        "strength",
        "reps",
        "dumbbell",
        "Forearm supported, palm down, lift the dumbbell with the other hand, then lower it "
        "slowly by bending the wrist down over three to four seconds.",
    ),
    (
        "Isometric wrist extension",
        "elbow_wrist",
        UPPER,
        "strength",
        "time",
        "dumbbell",
        "Forearm supported, palm down, hold the wrist level against a dumbbell or the other "
        "hand's resistance at the prescribed effort.",
    ),
    (
        "Forearm pronation and supination",
        "elbow_wrist",
        UPPER,
        "strength",
        "reps",
        "dumbbell",
        "Forearm supported with the hand over the edge, hold a dumbbell or hammer at one end "
        "and slowly rotate the palm up and down.",
    ),
    (
        "Grip squeeze",
        "elbow_wrist",
        UPPER,
        "strength",
        "reps",
        "grip trainer",
        "Squeeze a hand gripper, putty or soft ball firmly, hold for a few seconds and release "
        "slowly.",
    ),
    (
        "Biceps curl",
        "elbow_wrist",
        UPPER,
        "strength",
        "reps",
        "dumbbell",
        "Elbows at the sides, curl the dumbbells up by bending the elbows without swinging, "
        "then lower slowly.",
    ),
    # Spine and trunk
    (
        "McGill curl-up",
        "spine",
        UPPER,
        "motor_control",
        "reps",
        "none",
        "Lying on your back, one knee bent and hands under the lower back, lift the head and "
        "shoulders slightly as one unit without flexing the neck or lower back; hold 8-10 s.",
    ),
    (
        "Side plank",
        "spine",
        UPPER,
        "strength",
        "time",
        "none",
        "On one forearm with the elbow under the shoulder and the knees or feet stacked, lift "
        "the hips so the body is in a straight line and hold.",
    ),
    (
        "Front plank",
        "spine",
        UPPER,
        "strength",
        "time",
        "none",
        "On the forearms and toes, keep the body in a straight line from head to heels with "
        "the ribs down and the buttocks tight, and hold.",
    ),
    (
        "Bird dog",
        "spine",
        UPPER,
        "motor_control",
        "reps",
        "none",
        "On hands and knees with a neutral spine, reach one arm forward and the opposite leg "
        "back without the trunk rotating or arching, hold, then switch.",
    ),
    (
        "Dead bug",
        "spine",
        UPPER,
        "motor_control",
        "reps",
        "none",
        "Lying on your back with the arms up and the hips and knees at 90 degrees, lower the "
        "opposite arm and leg towards the floor while keeping the lower back flat.",
    ),
    (
        "Pallof press",
        "spine",
        UPPER,
        "strength",
        "reps",
        "cable",
        "Standing side-on to a cable or band at chest height, press the handle straight out "
        "from the chest and back without letting the trunk rotate.",
    ),
    (
        "Back extension",
        "spine",
        LOWER,
        "strength",
        "reps",
        "roman chair",
        "On a 45-degree back extension bench, lower the trunk by bending at the hips and "
        "spine, then raise it back in line with the legs without overarching.",
    ),
    (
        "Cat-camel",
        "spine",
        UPPER,
        "mobility",
        "reps",
        "none",
        "On hands and knees, slowly round the whole spine up towards the ceiling, then let it "
        "sag into gentle extension, moving within a comfortable range.",
    ),
    (
        "Prone press-up",
        "spine",
        UPPER,
        "mobility",
        "reps",
        "none",
        "Lying face down with the hands under the shoulders, press the upper body up while "
        "the pelvis and lower back stay relaxed on the floor, then lower.",
    ),
    (
        "Open book thoracic rotation",
        "spine",
        UPPER,
        "mobility",
        "reps",
        "none",
        "Lying on your side with the hips and knees bent and the arms out in front, open the "
        "top arm across to the other side, rotating through the upper back, then return.",
    ),
    # Neck
    (
        "Chin tuck",
        "neck",
        UPPER,
        "motor_control",
        "reps",
        "none",
        "Sitting or lying, gently draw the chin straight back to make a double chin without "
        "tipping the head down, hold a few seconds and relax.",
    ),
    (
        "Deep neck flexor hold",
        "neck",
        UPPER,
        "motor_control",
        "time",
        "none",
        "Lying on your back, nod the chin in gently and lift the head just clear of the "
        "surface, keeping the nod, and hold without the front neck muscles straining.",
    ),
    (
        "Cervical isometrics",
        "neck",
        UPPER,
        "strength",
        "time",
        "none",
        "With the head in neutral, press it gently into your hand forwards, backwards and to "
        "each side without letting it move, holding each at the prescribed effort.",
    ),
    (
        "Cervical rotation",
        "neck",
        UPPER,
        "mobility",
        "reps",
        "none",
        "Sitting tall, turn the head slowly to look over one shoulder as far as comfortable, "
        "then to the other.",
    ),
]


def _exercises() -> sa.TableClause:
    return sa.table(
        "exercises",
        sa.column("id", sa.Uuid()),
        sa.column("clinic_id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("body_region", sa.String()),
        sa.column("body", sa.String()),
        sa.column("category", sa.String()),
        sa.column("dosing", sa.String()),
        sa.column("equipment", sa.String()),
        sa.column("media_urls", sa.JSON()),
        sa.column("version", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )


def upgrade() -> None:
    now = (
        datetime.now(UTC).replace(tzinfo=None)
        if op.get_bind().dialect.name == "sqlite"
        else datetime.now(UTC)
    )
    rows: list[dict[str, object]] = [
        {
            "id": uuid.uuid5(NAMESPACE, name),
            "clinic_id": None,
            "name": name,
            "description": description,
            "body_region": region,
            "body": body,
            "category": category,
            "dosing": dosing,
            "equipment": equipment,
            "media_urls": [],
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for name, region, body, category, dosing, equipment, description in LIBRARY
    ]
    op.bulk_insert(_exercises(), rows)


def downgrade() -> None:
    exercises = _exercises()
    op.execute(exercises.delete().where(exercises.c.clinic_id.is_(None)))
